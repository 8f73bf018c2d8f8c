import { createMiddleware } from "hono/factory";
import { type TenantDb, type TenantState, withTenant } from "../../db/tenant";
import type { Context, HonoEnv } from "../app";
import type { Principal } from "../auth/principal";
import { role as roleSchema } from "../auth/roles";
import { requestConnection } from "../lib/connection";
import { ApiError } from "../lib/errors";
import { isUuid } from "../lib/ids";

/** Thrown inside the transaction to roll it back after the handler produced an error response. */
class Rollback extends Error {}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Refuses a credential the database no longer backs, and refreshes the role: a suspended or
 * deleted tenant, a disabled or deleted user, an ended session. Checked on every request in
 * the transaction's opening round trip, so logout, disabling and role changes act at once.
 */
function checkPrincipal(principal: Principal, state: TenantState): Principal {
  if (principal.kind === "platform_admin") return principal;
  if (!state.tenantActive) throw new ApiError("FORBIDDEN", { detail: "The tenant is suspended or deleted." });
  if (principal.kind !== "user") return principal;
  const user = state.user;
  if (user?.status !== "active" || !user.sessionActive) {
    throw new ApiError("UNAUTHENTICATED", { detail: "The session has ended." });
  }
  return { ...principal, role: roleSchema.parse(user.role) };
}

/**
 * Runs the rest of the request inside one tenant-scoped transaction and sets `db` to it.
 * The tenant is the principal's; a platform admin acts on the tenant named by the
 * `tenantId` path parameter. A response of 400 or above (or a thrown error) rolls back,
 * so a failed request leaves nothing half-written. Safe methods get a read-only
 * transaction whose COMMIT is not awaited.
 */
export function tenantDb() {
  return createMiddleware<HonoEnv>(async function tenantDbMiddleware(c, next) {
    const pending: AfterCommit[] = [];
    c.set("afterCommit", pending);
    try {
      await tenantTransaction(
        c,
        async () => {
          await next();
          if (c.error || c.res.status >= 400) throw new Rollback();
        },
        { readOnly: SAFE_METHODS.has(c.req.method) },
      );
    } catch (error) {
      if (!(error instanceof Rollback)) throw error;
      return;
    }
    for (const task of pending) {
      try {
        await task();
      } catch (error) {
        c.get("logger").warn("after-commit task failed", {
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
  });
}

/** Work that must follow the request's commit, such as a queue message naming a new row. */
export type AfterCommit = () => Promise<unknown>;

/**
 * Runs `task` once the request's tenant transaction has committed, before the response leaves;
 * never when it rolls back. For a queue message about rows the request writes: sent earlier, its
 * consumer could look before the commit and find nothing. A task that fails is logged, not
 * raised: the rows are committed, so whatever sweeps up unsent work (the stale-document sweep,
 * for ingestion) must cover it.
 *
 * @example
 * afterCommit(c, () => c.env.JOBS.send({ type: "rag_ingest", tenantId, documentId, generation }));
 */
export function afterCommit(c: Context, task: AfterCommit): void {
  const pending = c.get("afterCommit");
  if (!pending) throw new Error("afterCommit needs the tenantDb middleware's transaction");
  pending.push(task);
}

/**
 * One transaction scoped to the caller's tenant, with the principal re-checked in its opening
 * round trip; `db` is set for its duration. The middleware wraps whole requests in it; a route
 * left out of the middleware calls it itself when its work must be committed before the
 * response (an agent run's rows, before the run's Durable Object writes to them).
 *
 * @throws ApiError FORBIDDEN (no tenant, suspended tenant), UNAUTHENTICATED (ended session),
 *   VALIDATION_FAILED (a tenant id that is not a UUID); rethrows what `fn` throws.
 */
export async function tenantTransaction<T>(
  c: Context,
  fn: (db: TenantDb) => Promise<T>,
  opts: { readOnly?: boolean } = {},
): Promise<T> {
  const principal = c.get("principal");
  const tenantId = principal.kind === "platform_admin" ? c.req.param("tenantId") : principal.tenantId;
  if (!tenantId) {
    throw new ApiError("FORBIDDEN", {
      detail: "The platform admin acts on a tenant through /v1/tenants/{tenantId}.",
    });
  }
  if (!isUuid(tenantId)) {
    throw new ApiError("VALIDATION_FAILED", {
      detail: "The tenant id is not a UUID.",
      errors: [{ path: "tenantId", message: "must be a UUID" }],
    });
  }
  const client = await requestConnection(c);
  return withTenant(
    client,
    tenantId,
    async (db, state) => {
      c.set("principal", checkPrincipal(principal, state));
      c.set("db", db);
      return fn(db);
    },
    {
      readOnly: opts.readOnly ?? false,
      ...(principal.kind === "user"
        ? { session: { userId: principal.userId, sessionId: principal.sessionId } }
        : {}),
    },
  );
}

/**
 * Runs `fn` in a transaction scoped to a tenant the route has only just learned: login and
 * refresh (after the privileged lookup names the tenant) and tenant creation (a new id).
 * Every other route gets its transaction from `tenantDb()`.
 */
export async function runInTenant<T>(
  c: Context,
  tenantId: string,
  fn: (db: TenantDb, state: TenantState) => Promise<T>,
): Promise<T> {
  return withTenant(await requestConnection(c), tenantId, async (db, state) => {
    c.set("db", db);
    return fn(db, state);
  });
}
