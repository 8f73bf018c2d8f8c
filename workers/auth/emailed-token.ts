import { findTokenTarget } from "../../db/privileged";
import type { Context } from "../app";
import { sha256Hex } from "../lib/bytes";
import { requestConnection } from "../lib/connection";
import type { ApiError } from "../lib/errors";
import { limitPerIp } from "../lib/rate-limit";

/**
 * The tenant and row an emailed one-time token (invitation, password reset) names, found
 * through the privileged path after the per-IP limit. Whether it is still usable (expiry, use)
 * is the caller's check, under a row lock in the tenant transaction.
 *
 * @throws ApiError RATE_LIMITED, or `invalid` when the token names nothing.
 * @example
 * const target = await resolveEmailedToken(c, "invitation", input.token, invalid);
 */
export async function resolveEmailedToken(
  c: Context,
  kind: "invitation" | "password_reset",
  token: string,
  invalid: ApiError,
): Promise<{ tenantId: string; id: string }> {
  await limitPerIp(c);
  const target = await findTokenTarget(await requestConnection(c), kind, await sha256Hex(token));
  if (!target) throw invalid;
  return target;
}
