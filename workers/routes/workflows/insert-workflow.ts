import { workflows, workflowVersions } from "../../../db/schema";
import type { TenantDb } from "../../../db/tenant";
import type { Workflow } from "../../../db/types";
import type { CheckedWorkflow } from "./validate-for-tenant";

/**
 * Inserts a checked workflow and its version 1 in the caller's transaction (the workflows API
 * and template instantiation both create workflows this way).
 */
export async function insertWorkflow(
  db: TenantDb,
  input: { name: string; description: string | null; checked: CheckedWorkflow; createdBy: string | null },
): Promise<Workflow> {
  const definition = input.checked.definition as unknown as Record<string, unknown>;
  const [row] = await db
    .insert(workflows)
    .values({
      tenantId: db.tenantId,
      name: input.name,
      description: input.description,
      currentVersion: 1,
      definition,
      inputSchema: input.checked.inputSchema,
      createdBy: input.createdBy,
    })
    .returning();
  if (!row) throw new Error("workflow insert returned no row");
  await db.insert(workflowVersions).values({
    tenantId: db.tenantId,
    workflowId: row.id,
    version: 1,
    definition,
    inputSchema: input.checked.inputSchema,
    createdBy: input.createdBy,
  });
  return row;
}
