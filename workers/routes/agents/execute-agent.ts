import { createRoute, z } from "@hono/zod-openapi";
import { providerFor, providerKind, providerTestHeaders } from "../../agents/provider";
import { followRun, recordedFailure, runMessages, runObject } from "../../agents/run/object";
import { type Prepared, prepareRun } from "../../agents/run/prepare";
import { runActor } from "../../agents/run/spec";
import { createTask, isTaskFinished, loadTask } from "../../agents/run/tasks";
import { storedText } from "../../agents/run/transcript";
import type { App, Context } from "../../app";
import { authorize } from "../../auth/authorize";
import { audit } from "../../lib/audit";
import { ApiError, errorCode } from "../../lib/errors";
import { checkOutboundUrl } from "../../lib/outbound-fetch";
import { problemResponses } from "../../lib/problem-responses";
import { idempotencyKeyHeader, uuidParam } from "../../lib/schemas";
import { webhookPolicy } from "../../lib/webhooks";
import { tenantTransaction } from "../../middleware/tenant-db";
import { QUOTA_WARNING_HEADER } from "../../quotas/budget";
import { loadRun } from "../agent-runs/load";
import { agentRunSchema, toAgentRunResponse } from "../agent-runs/schemas";
import { agentTaskSchema, toAgentTaskResponse } from "../agent-tasks/schemas";
import { messageSchema, toMessageResponse } from "../conversations/schemas";

const body = z
  .object({
    message: z.string().min(1).max(100_000).openapi({ example: "What is 2 + 3?" }),
    conversationId: z.string().uuid().optional().openapi({
      description: "Continue this conversation with the agent; omit to start a new one.",
      example: "0193b2c4-8f1e-7a3b-9c2d-4e5f6a7b8c9d",
    }),
    stream: z.boolean().optional().openapi({
      description: "Answer with the run's server-sent events (as does `Accept: text/event-stream`).",
    }),
    async: z.boolean().optional().openapi({
      description:
        "Queue the run as an agent task and answer 202 at once; follow it at `GET /v1/agent-tasks/{id}`.",
    }),
    callbackUrl: z.string().url().max(2048).optional().openapi({
      description: "With `async`: receives a signed completion webhook (see docs/webhooks.md).",
      example: "https://example.com/hooks/meridian",
    }),
  })
  .strict()
  .refine((b) => !(b.async && b.stream), { message: "async and stream exclude each other", path: ["stream"] })
  .refine((b) => b.callbackUrl === undefined || b.async === true, {
    message: "callbackUrl needs async: true",
    path: ["callbackUrl"],
  })
  .openapi("ExecuteAgentRequest");

const headers = z.object({
  "idempotency-key": idempotencyKeyHeader(
    "Makes a retry safe: a request with the same key (from the same user or API key) attaches to the run " +
      "the first one started instead of starting another: the same answer, or the same event stream from " +
      "the start. The key stays bound to that run; reusing it for another message, agent, conversation or " +
      "mode is 422 IDEMPOTENCY_KEY_REUSED.",
  ),
  "x-model-scenario": z.string().max(200).optional().openapi({
    description:
      "Test deployments only (ignored in production): forwarded to the model provider so a local model server can script its answers.",
  }),
  accept: z.string().optional(),
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
  summary: "Run an agent on a message: wait for the answer, or stream it",
  description:
    "Adds the message to a new or existing conversation and runs the agent's tool loop until the model " +
    "stops or a limit (`maxToolIterations`, `maxExecutionSeconds`), a cancel or a provider failure ends " +
    "it. The run executes in its own Durable Object, not in this request: with `stream: true` (or " +
    "`Accept: text/event-stream`) the answer is the run's server-sent events, which " +
    "`GET /v1/agent-runs/{id}/events` resumes with `Last-Event-ID`; otherwise the request waits and " +
    "returns the finished run.\n\n" +
    "When the model provider still fails after retries (honouring `retry-after`, within the run's time " +
    "limit), the waiting request is answered with a problem: 502 `BAD_GATEWAY`, 503 `UNAVAILABLE` for " +
    "an overloaded provider, or 422 `UNPROCESSABLE` when the provider rejected the request the agent's " +
    "definition produced. The run is kept as `failed` with what it stored; `X-Run-Id` and `Location` " +
    "name it. A streamed run reports the same as an `error` event before `done`. With `Idempotency-Key`, a retried request attaches to the run the first one " +
    "started instead of starting another. 409 when the conversation has a run in progress; 429 when " +
    "the agent is at `maxConcurrentExecutions`.",
  security: [{ bearer: [] }],
  request: {
    params: z.object({ id: uuidParam("id", "agent") }),
    headers,
    body: { required: true, content: { "application/json": { schema: body } } },
  },
  responses: {
    200: {
      description:
        "The finished run (succeeded, failed or cancelled) and its answer; or, streamed, its events.",
      content: {
        "application/json": { schema: executeResponse },
        "text/event-stream": { schema: z.string().openapi({ description: "See docs/agents.md#events." }) },
      },
    },
    202: {
      description: "With `async: true`: the queued agent task; follow it at `GET /v1/agent-tasks/{id}`.",
      content: { "application/json": { schema: agentTaskSchema } },
    },
    ...problemResponses(400, 401, 402, 403, 404, 409, 410, 413, 422, 429, 500, 502, 503),
  },
});

export function registerExecuteAgent(app: App) {
  app.openapi(route, async (c) => {
    const caller = authorize(c, "agents:write");
    const config = c.get("config");
    providerFor(config);
    c.header("meridian-model-provider", providerKind(config));
    const { id } = c.req.valid("param");
    const input = c.req.valid("json");
    const header = c.req.valid("header");
    const scenario = header["x-model-scenario"];
    const stream = input.stream ?? header.accept?.includes("text/event-stream") ?? false;
    const actor = runActor(caller);
    const mode = input.async ? "async" : stream ? "stream" : "sync";

    const providerHeaders = providerTestHeaders(scenario, config);
    if (input.callbackUrl) checkOutboundUrl(input.callbackUrl, webhookPolicy(config));

    // Committed before the run's object starts writing to these rows.
    const prepared = await tenantTransaction(c, async (db) => {
      const result = await prepareRun(db, config, {
        agentId: id,
        message: input.message,
        conversationId: input.conversationId,
        mode,
        createdBy: actor.kind === "platform_admin" ? null : actor.id,
        actor,
        idempotencyKey: header["idempotency-key"],
        providerHeaders,
      });
      if (result.kind === "new") {
        await audit(c, {
          action: "agent.execute",
          resourceType: "agent_run",
          resourceId: result.run.id,
          changes: { agentId: id, conversationId: result.run.conversationId, mode: result.run.mode },
        });
      }
      if (mode !== "async") return { ...result, task: undefined };
      const task =
        result.kind === "new"
          ? await createTask(db, result.run, {
              actor,
              message: input.message,
              callbackUrl: input.callbackUrl,
              providerHeaders,
            })
          : await loadTask(db, result.run.taskId ?? "");
      return { ...result, task };
    });

    const warning = prepared.kind === "new" ? prepared.quotaWarning : null;
    if (warning) c.header(QUOTA_WARNING_HEADER, warning);

    if (prepared.task) {
      // Sent after the commit, so the consumer finds the task; a replayed key sends it again
      // while the task is pending, which the consumer treats as the same work.
      if (!isTaskFinished(prepared.task)) {
        await c.env.JOBS.send({
          type: "agent_task",
          tenantId: prepared.task.tenantId,
          taskId: prepared.task.id,
        });
      }
      return c.json(toAgentTaskResponse(prepared.task), 202);
    }

    const { run } = prepared;
    const object = runObject(c.env, run);
    // Calls on one stub arrive in order: the attach goes out without waiting for the start.
    const starting = prepared.kind === "new" ? object.start(prepared.spec) : Promise.resolve();
    if (stream) {
      const [, events] = await Promise.all([
        starting,
        followRun(c.env, c.executionCtx, run, { lastEventId: "0" }),
      ]);
      return new Response(events.body, {
        status: 200,
        headers: {
          ...Object.fromEntries(events.headers),
          "x-run-id": run.id,
          "meridian-model-provider": providerKind(config),
          ...(warning ? { [QUOTA_WARNING_HEADER]: warning } : {}),
        },
      }) as never;
    }
    await starting;
    const outcome = await object.result();
    const answer = await finishedRun(c, prepared, outcome?.error);
    if (answer.error) {
      // The run and what it stored are already committed: an error status loses nothing.
      throw new ApiError(answer.error.code, {
        detail: `${answer.error.detail} The run ${run.id} is recorded as failed.`,
        headers: { "x-run-id": run.id, location: `/v1/agent-runs/${run.id}` },
      });
    }
    return c.json(answer, 200);
  });
}

/** The finished run as the sync answer, read back from PostgreSQL (also for a replayed key). */
async function finishedRun(
  c: Context,
  prepared: Prepared,
  error: ExecuteAgentResponse["error"] | undefined,
): Promise<ExecuteAgentResponse> {
  return tenantTransaction(
    c,
    async (db) => {
      const run = await loadRun(db, prepared.run.id);
      const rows = await runMessages(db, run.id);
      const last = rows.filter((m) => m.role === "assistant").at(-1);
      return {
        run: toAgentRunResponse(run),
        conversationId: run.conversationId,
        output: last ? storedText(last.content) : "",
        messages: rows.map(toMessageResponse),
        error: error ?? recordedFailure(run),
      };
    },
    { readOnly: true },
  );
}
