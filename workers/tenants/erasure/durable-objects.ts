import type { Client } from "@neondatabase/serverless";
import { asc, gt } from "drizzle-orm";
import { agentRuns } from "../../../db/schema/agents";
import { workflowExecutions } from "../../../db/schema/workflows";
import { withTenant } from "../../../db/tenant";
import { runObject } from "../../agents/run/object";
import type { Env } from "../../env";
import { executionObject } from "../../routes/workflow-executions/load";

/** Objects erased at once. */
const PAGE = 200;

/**
 * Clears the storage (and alarms) of every agent run and workflow execution object of the
 * tenant. Objects are addressed by `<tenant>:<id>` and cannot be listed, so the ids come from
 * PostgreSQL, which is why this runs before the rows go. Returns how many objects it cleared.
 */
export async function eraseDurableObjects(env: Env, client: Client, tenantId: string): Promise<number> {
  const runs = await eachPage(client, tenantId, agentRuns, (id) => runObject(env, { tenantId, id }).erase());
  const executions = await eachPage(client, tenantId, workflowExecutions, (id) =>
    executionObject(env, { tenantId, id }).erase(),
  );
  return runs + executions;
}

async function eachPage(
  client: Client,
  tenantId: string,
  table: typeof agentRuns | typeof workflowExecutions,
  erase: (id: string) => Promise<void>,
): Promise<number> {
  let done = 0;
  let after: string | undefined;
  for (;;) {
    const page = await withTenant(client, tenantId, (db) =>
      db
        .select({ id: table.id })
        .from(table)
        .where(after === undefined ? undefined : gt(table.id, after))
        .orderBy(asc(table.id))
        .limit(PAGE),
    );
    await Promise.all(page.map((row) => erase(row.id)));
    done += page.length;
    if (page.length < PAGE) return done;
    after = page[page.length - 1]?.id;
  }
}
