import { z } from "zod";
import { defineTool } from "../../../server/types";
import { requirePermission } from "../access";
import { readRun } from "../runs";

export const getRun = defineTool({
  name: "get_run",
  title: "Get run",
  description:
    "An agent run of this tenant: { runId, agentId, conversationId, status, stopReason, output, error }. " +
    "Use it to follow a run_agent call that came back with status running. Fails with not_found.",
  input: z.strictObject({ runId: z.string().uuid().describe("The run's id, from run_agent.") }),
  annotations: { readOnlyHint: true, idempotentHint: true },
  async run({ runId }, { db, principal }) {
    requirePermission(principal, "agents:read");
    return readRun(db, runId);
  },
});
