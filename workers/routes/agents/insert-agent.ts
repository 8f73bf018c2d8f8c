import { agents, agentVersions } from "../../../db/schema";
import type { TenantDb } from "../../../db/tenant";
import type { Agent } from "../../../db/types";
import { enforceCountQuota } from "../../quotas/counts";

/** The versioned part of an agent: what each `agent_versions` row snapshots. */
export interface AgentDefinition {
  model: string;
  systemPrompt: string | null;
  tools: Agent["tools"];
  capabilities: Agent["capabilities"];
  resourceLimits: Agent["resourceLimits"];
}

/**
 * Inserts a checked agent and its version 1 in the caller's transaction (the agents API and
 * template instantiation both create agents this way), within the tenant's `maxAgents`.
 *
 * @throws ApiError QUOTA_EXCEEDED
 */
export async function insertAgent(
  db: TenantDb,
  input: {
    name: string;
    description: string | null;
    definition: AgentDefinition;
    metadata: Agent["metadata"];
    createdBy: string | null;
  },
): Promise<Agent> {
  const [agent] = await db
    .insert(agents)
    .values({
      tenantId: db.tenantId,
      name: input.name,
      description: input.description,
      currentVersion: 1,
      ...input.definition,
      metadata: input.metadata,
      createdBy: input.createdBy,
    })
    .returning();
  if (!agent) throw new Error("agent insert returned no row");
  await enforceCountQuota(db, "agents");
  await db.insert(agentVersions).values({
    tenantId: db.tenantId,
    agentId: agent.id,
    version: 1,
    name: agent.name,
    description: agent.description,
    ...input.definition,
    createdBy: input.createdBy,
  });
  return agent;
}
