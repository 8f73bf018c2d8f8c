import { createMiddleware } from "hono/factory";
import { type TenantDb, withTenant } from "../../db/tenant";
import type { Context, HonoEnv } from "../app";
import { requestConnection } from "../lib/connection";
import { ApiError } from "../lib/errors";
import { isUuid } from "../lib/ids";

/** Thrown inside the transaction to roll it back after the handler produced an error response. */
class Rollback extends Error {}

/**
 * Runs the rest of the request inside one tenant-scoped transaction and sets `db` to it.
 * The tenant is the principal's; a platform admin acts on the tenant named by the
 * `tenantId` path parameter. A response of 400 or above (or a thrown error) rolls back,
 * so a failed request leaves nothing half-written.
 */
export function tenantDb() {
  return createMiddleware<HonoEnv>(async function tenantDbMiddleware(c, next) {
    const principal = c.get("principal");
    const tenantId = principal.kind === "platform_admin" ? c.req.param("tenantId") : principal.tenantId;
    if (!tenantId || !isUuid(tenantId)) throw new ApiError("NOT_FOUND", { detail: "No such tenant." });
    const client = await requestConnection(c);
    try {
      await withTenant(client, tenantId, async (db) => {
        c.set("db", db);
        await next();
        if (c.error || c.res.status >= 400) throw new Rollback();
      });
    } catch (error) {
      if (!(error instanceof Rollback)) throw error;
    }
  });
}

/**
 * Runs `fn` in a transaction scoped to a tenant the route has only just learned: login and
 * refresh (after the privileged lookup names the tenant) and tenant creation (a new id).
 * Every other route gets its transaction from `tenantDb()`.
 */
export async function runInTenant<T>(
  c: Context,
  tenantId: string,
  fn: (db: TenantDb) => Promise<T>,
): Promise<T> {
  return withTenant(await requestConnection(c), tenantId, async (db) => {
    c.set("db", db);
    return fn(db);
  });
}
