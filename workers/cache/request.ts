import type { Context } from "../app";
import { afterCommit } from "../middleware/tenant-db";
import { type CacheDeps, type CacheScope, invalidate, markWritten } from "./cache";

/**
 * The cache's dependencies for a request: its configuration, telemetry and logger, and its
 * `waitUntil` for invalidation retries.
 */
export function cacheDeps(c: Context): CacheDeps {
  return {
    config: c.get("config"),
    telemetry: c.get("telemetry"),
    logger: c.get("logger"),
    waitUntil: (promise) => {
      try {
        c.executionCtx.waitUntil(promise);
      } catch {
        // No ExecutionContext (the app served outside the Workers runtime): the promise just runs.
      }
    },
  };
}

/**
 * Invalidates `scope` once the request's tenant transaction commits (never when it rolls back),
 * before the response leaves, so the caller's next read sees its write. Until then the request's
 * own reads of the scope bypass the cache. Call it in the route that writes, next to the write.
 *
 * @throws Error when the route runs outside the tenantDb middleware's transaction.
 * @example
 * await db.update(agents).set({ deletedAt: new Date() }).where(eq(agents.id, id));
 * invalidateAfterCommit(c, agentScope(db.tenantId, id));
 */
export function invalidateAfterCommit(c: Context, scope: CacheScope): void {
  markWritten(c.get("db"), scope);
  afterCommit(c, () => invalidate(cacheDeps(c), scope));
}
