import type { Config } from "../../env";
import type { OutboundPolicy } from "../outbound-fetch";

/**
 * The outbound policy for webhook URLs. Private and loopback hosts are refused unless the
 * deployment sets `OUTBOUND_ALLOW_PRIVATE=true`, which is honoured only outside production
 * (local development and tests, where receivers run on 127.0.0.1): a misconfigured production
 * Worker still cannot be pointed at an internal address.
 */
export function webhookPolicy(
  config: Pick<Config, "ENVIRONMENT" | "OUTBOUND_ALLOW_PRIVATE">,
): OutboundPolicy {
  return { allowPrivate: config.OUTBOUND_ALLOW_PRIVATE && config.ENVIRONMENT !== "production" };
}
