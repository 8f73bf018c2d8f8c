import { createRoute, z } from "@hono/zod-openapi";
import { runObject } from "../../agents/run/object";
import type { App, Context } from "../../app";
import { authorize } from "../../auth/authorize";
import { audit } from "../../lib/audit";
import { ApiError } from "../../lib/errors";
import { problemResponses } from "../../lib/problem-responses";
import { uuidParam } from "../../lib/schemas";
import { loadRun } from "./load";

const body = z
  .object({
    toolUseId: z.string().min(1).max(128).optional().openapi({
      description: "The pending call to decide; omit to decide every pending call of the run.",
      example: "toolu_01A09q90qw90lq917835lq9",
    }),
    reason: z.string().max(2000).optional().openapi({
      description: "Why; a denial's reason is passed to the model with the refused call.",
      example: "Not for production data.",
    }),
  })
  .strict()
  .openapi("ApprovalDecision");

const decided = z
  .object({
    runId: z.string().uuid(),
    decision: z.enum(["approved", "denied"]),
    toolUseIds: z.array(z.string()).openapi({ description: "The calls this request decided." }),
  })
  .openapi("ApprovalDecided");
export type ApprovalDecidedResponse = z.infer<typeof decided>;

function decisionRoute<P extends string>(verb: "approve" | "deny", path: P) {
  return createRoute({
    operationId: verb === "approve" ? "approveAgentRunTool" : "denyAgentRunTool",
    tags: ["agent-runs"],
    method: "post",
    path,
    summary: verb === "approve" ? "Approve a pending tool call" : "Deny a pending tool call",
    description:
      "For tools the agent marks `requiresApproval`: the run waits (`awaiting_approval`) until every " +
      "pending call is approved or denied, then continues. A denied call is not run; the model gets an " +
      "error result saying a reviewer refused it. 409 when the run has no such pending call.",
    security: [{ bearer: [] }],
    request: {
      params: z.object({ id: uuidParam("id", "agent run") }),
      body: { required: false, content: { "application/json": { schema: body } } },
    },
    responses: {
      200: { description: "The decision was applied.", content: { "application/json": { schema: decided } } },
      ...problemResponses(400, 401, 403, 404, 409, 429, 500),
    },
  });
}

async function decide(
  c: Context,
  runId: string,
  decision: "approved" | "denied",
  input: z.infer<typeof body> | undefined,
): Promise<ApprovalDecidedResponse> {
  authorize(c, "agents:write");
  const run = await loadRun(c.get("db"), runId);
  if (run.status !== "awaiting_approval") {
    throw new ApiError("CONFLICT", {
      detail: `Run ${run.id} is not waiting for an approval (${run.status}).`,
    });
  }
  const result = await runObject(c.env, run).decide(input?.toolUseId, {
    decision,
    reason: input?.reason ?? null,
  });
  if ("error" in result) {
    throw new ApiError("CONFLICT", {
      detail:
        result.error === "unknown_tool_use"
          ? `Run ${run.id} has no pending call ${input?.toolUseId}.`
          : `Run ${run.id} is not waiting for an approval.`,
    });
  }
  await audit(c, {
    action: decision === "approved" ? "agent_run.approve" : "agent_run.deny",
    resourceType: "agent_run",
    resourceId: run.id,
    changes: { toolUseIds: result.decided, reason: input?.reason ?? null },
  });
  return { runId: run.id, decision, toolUseIds: result.decided };
}

export function registerDecideApproval(app: App) {
  app.openapi(decisionRoute("approve", "/v1/agent-runs/{id}/approve"), async (c) =>
    c.json(await decide(c, c.req.valid("param").id, "approved", c.req.valid("json")), 200),
  );
  app.openapi(decisionRoute("deny", "/v1/agent-runs/{id}/deny"), async (c) =>
    c.json(await decide(c, c.req.valid("param").id, "denied", c.req.valid("json")), 200),
  );
}
