import { and, eq } from "drizzle-orm";
import { agentVersions } from "../../db/schema";
import type { TenantDb } from "../../db/tenant";
import type { Agent, AgentVersion } from "../../db/types";
import type { Context } from "../app";
import { ApiError } from "../lib/errors";
import { loadAgent } from "../routes/agents/load";
import { type CacheDeps, readThrough } from "./cache";
import type { CacheScope } from "./keys";
import { invalidateAfterCommit } from "./request";
import { reviveRow } from "./rows";

/** How long an agent's definition is served from the cache without a write to it. @default 300 */
export const AGENT_TTL_SECONDS = 300;

const AGENT_DATES = ["createdAt", "updatedAt", "deletedAt"] as const;
const VERSION_DATES = ["createdAt", "updatedAt"] as const;

/** One agent's cache: the live agent and the versions read through it. */
export function agentScope(tenantId: string, agentId: string): CacheScope {
  return { cache: "agent", tenantId, id: agentId };
}

/**
 * `loadAgent` through the cache: the live agent of the caller's tenant. Only live agents are
 * stored (a deleted or unknown id is a 404 from the database every time), and a delete, restore
 * or update replaces the agent's generation, so none of them is ever answered from an old entry.
 * For reads only: a route that writes the agent loads it with `loadAgent(db, id, { forUpdate })`.
 *
 * @throws ApiError NOT_FOUND
 * @example
 * const agent = await cachedAgent(cacheDeps(c), c.get("db"), id);
 */
export function cachedAgent(deps: CacheDeps, db: TenantDb, id: string): Promise<Agent> {
  return readThrough(
    deps,
    {
      scope: agentScope(db.tenantId, id),
      ttlSeconds: AGENT_TTL_SECONDS,
      decode: (stored) => live(reviveRow<Agent>(stored, db.tenantId, AGENT_DATES)),
      db,
    },
    () => loadAgent(db, id),
  );
}

/**
 * A version of a live agent, through the cache. Versions never change, but they are stored under
 * the agent's generation, so deleting the agent retires them with it.
 *
 * @throws ApiError NOT_FOUND (the agent, or the version)
 */
export function cachedAgentVersion(
  deps: CacheDeps,
  db: TenantDb,
  id: string,
  version: number,
): Promise<AgentVersion> {
  return readThrough(
    deps,
    {
      scope: agentScope(db.tenantId, id),
      variant: `version:${version}`,
      ttlSeconds: AGENT_TTL_SECONDS,
      decode: (stored) => {
        const row = reviveRow<AgentVersion>(stored, db.tenantId, VERSION_DATES);
        return row && row.version === version ? row : null;
      },
      db,
    },
    async () => {
      const agent = await loadAgent(db, id);
      const [row] = await db
        .select()
        .from(agentVersions)
        .where(
          and(
            eq(agentVersions.tenantId, db.tenantId),
            eq(agentVersions.agentId, agent.id),
            eq(agentVersions.version, version),
          ),
        );
      if (!row) throw new ApiError("NOT_FOUND", { detail: `Agent ${id} has no version ${version}.` });
      return row;
    },
  );
}

/**
 * For every route that writes an agent (update, delete, restore): its cached definition and
 * versions are retired once the request's transaction commits.
 */
export function invalidateAgent(c: Context, agentId: string): void {
  invalidateAfterCommit(c, agentScope(c.get("db").tenantId, agentId));
}

function live(agent: Agent | null): Agent | null {
  return agent && agent.deletedAt === null ? agent : null;
}
