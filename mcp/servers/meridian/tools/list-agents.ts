import { and, asc, eq, isNull } from "drizzle-orm";
import { z } from "zod";
import { agents } from "../../../../db/schema";
import { defineTool } from "../../../server/types";
import { requirePermission } from "../access";

/** Most agents one call lists; `truncated` says when the tenant has more. */
export const MAX_LISTED_AGENTS = 500;

export const listAgents = defineTool({
  name: "list_agents",
  title: "List agents",
  description:
    "Lists this tenant's agents (deleted ones excluded), by name: id, name, description and model. " +
    `Pass an agent's id to run_agent. At most ${MAX_LISTED_AGENTS}; truncated says when there are more.`,
  input: z.strictObject({}),
  annotations: { readOnlyHint: true, idempotentHint: true },
  async run(_input, { db, principal }) {
    requirePermission(principal, "agents:read");
    const rows = await db
      .select({ id: agents.id, name: agents.name, description: agents.description, model: agents.model })
      .from(agents)
      .where(and(eq(agents.tenantId, db.tenantId), isNull(agents.deletedAt)))
      .orderBy(asc(agents.name), asc(agents.id))
      .limit(MAX_LISTED_AGENTS + 1);
    return {
      agents: rows.slice(0, MAX_LISTED_AGENTS).map((r) => ({
        id: r.id,
        name: r.name,
        description: r.description,
        model: r.model,
      })),
      truncated: rows.length > MAX_LISTED_AGENTS,
    };
  },
});
