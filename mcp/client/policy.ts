import type { Config } from "../../workers/env";
import { ApiError } from "../../workers/lib/errors";
import { checkOutboundUrl, hostRefusal, type OutboundPolicy } from "../../workers/lib/outbound-fetch";
import { webhookPolicy } from "../../workers/lib/webhooks/policy";

/** What the outbound policy reads from the Worker's config. */
export type PolicyConfig = Pick<Config, "ENVIRONMENT" | "OUTBOUND_ALLOW_PRIVATE">;

/**
 * The outbound policy for remote MCP servers: the webhooks' rule (private and loopback hosts only
 * with `OUTBOUND_ALLOW_PRIVATE=true` outside production), so one switch governs every
 * tenant-supplied URL.
 */
export function remoteMcpPolicy(config: PolicyConfig): OutboundPolicy {
  return webhookPolicy(config);
}

// Even where private hosts are allowed (local development, tests), nothing a developer runs lives
// on a link-local or cloud-metadata address, and those are what an SSRF is after.
const NEVER = /link-local|metadata/;

/**
 * Parses a remote MCP server's URL and refuses what the platform must not call: everything
 * `checkOutboundUrl` refuses under {@link remoteMcpPolicy}, and link-local and metadata hosts
 * even when private hosts are allowed.
 *
 * @throws {ApiError} UNPROCESSABLE naming the rule that refused the URL (never echoing credentials).
 * @example
 * const url = checkRemoteMcpUrl(body.url, c.get("config")); // 422 on save, not on first use
 */
export function checkRemoteMcpUrl(raw: string, config: PolicyConfig): URL {
  const policy = remoteMcpPolicy(config);
  const url = checkOutboundUrl(raw, policy);
  if (policy.allowPrivate) {
    const reason = hostRefusal(url.hostname);
    if (reason && NEVER.test(reason)) {
      throw new ApiError("UNPROCESSABLE", { detail: `The URL was refused: ${reason}.` });
    }
  }
  return url;
}
