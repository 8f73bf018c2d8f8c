import { createRoute, z } from "@hono/zod-openapi";
import { runAgent } from "../../agents/run";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { audit } from "../../lib/audit";
import { errorCode } from "../../lib/errors";
import { problemResponses } from "../../lib/problem-responses";
import { uuidParam } from "../../lib/schemas";
import { agentRunSchema, toAgentRunResponse } from "../agent-runs/schemas";
import { messageSchema, toMessageResponse } from "../conversations/schemas";

const body = z
  .object({
    message: z.string().min(1).max(100_000).openapi({ example: "What is 2 + 3?" }),
    conversationId: z.string().uuid().optional().openapi({
      description: "Continue this conversation with the agent; omit to start a new one.",
      example: "0193b2c4-8f1e-7a3b-9c2d-4e5f6a7b8c9d",
    }),
  })
  .strict()
  .openapi("ExecuteAgentRequest");

const headers = z.object({
  "x-model-scenario": z.string().max(200).optional().openapi({
    description:
      "Test deployments only (ignored in production): forwarded to the model provider so a local model server can script its answers.",
  }),
});

const executeResponse = z
  .object({
    run: agentRunSchema,
    conversationId: z.string().uuid(),
    output: z.string().openapi({
      description: "Text of the last assistant message; empty when there is none.",
      example: "2 + 3 = 5.",
    }),
    messages: z.array(messageSchema).openapi({ description: "Messages the run added, oldest first." }),
    error: z.object({ code: errorCode, detail: z.string() }).nullable().openapi({
      description: "Set when the model provider failed during the run; the run is then `failed`.",
      example: null,
    }),
  })
  .openapi("ExecuteAgentResponse");
export type ExecuteAgentResponse = z.infer<typeof executeResponse>;

const route = createRoute({
  operationId: "executeAgent",
  tags: ["agents"],
  method: "post",
  path: "/v1/agents/{id}/execute",
  summary: "Run an agent on a message and wait for its answer",
  description:
    "Runs the agent synchronously: the message is added to a new or existing conversation, then the " +
    "model is called, and the agent's built-in tools are run, until the model stops or the run reaches " +
    "the agent's `maxToolIterations` tool rounds or `maxExecutionSeconds`. Every message, tool call and " +
    "the run's token and cost totals are stored.\n\n" +
    "A model provider failure after the run has started (rate limit, overload, server error, a rejected " +
    "request) is answered **200** with `run.status: failed`, `run.stopReason: error` and `error` " +
    "(`BAD_GATEWAY`, `UNAVAILABLE` for an overloaded provider, or `UNPROCESSABLE`), so the failed run and " +
    "the messages stored before it are kept: an error status would roll back the request's transaction.",
  security: [{ bearer: [] }],
  request: {
    params: z.object({ id: uuidParam("id", "agent") }),
    headers,
    body: { required: true, content: { "application/json": { schema: body } } },
  },
  responses: {
    200: {
      description: "The finished run (succeeded or failed) and its answer.",
      content: { "application/json": { schema: executeResponse } },
    },
    ...problemResponses(400, 401, 403, 404, 413, 422, 429, 500),
  },
});

export function registerExecuteAgent(app: App) {
  app.openapi(route, async (c) => {
    const caller = authorize(c, "agents:write");
    const config = c.get("config");
    const { id } = c.req.valid("param");
    const input = c.req.valid("json");
    const scenario = c.req.valid("header")["x-model-scenario"];
    const result = await runAgent(c.get("db"), config, {
      agentId: id,
      message: input.message,
      conversationId: input.conversationId,
      createdBy: caller.kind === "user" ? caller.userId : caller.kind === "api_key" ? caller.keyId : null,
      ...(scenario && config.ENVIRONMENT !== "production"
        ? { providerHeaders: { "x-model-scenario": scenario } }
        : {}),
    });
    await audit(c, {
      action: "agent.execute",
      resourceType: "agent_run",
      resourceId: result.run.id,
      changes: {
        agentId: id,
        conversationId: result.conversationId,
        status: result.run.status,
        stopReason: result.run.stopReason,
      },
    });
    return c.json(
      {
        run: toAgentRunResponse(result.run),
        conversationId: result.conversationId,
        output: result.output,
        messages: result.messages.map(toMessageResponse),
        error: result.error,
      },
      200,
    );
  });
}
