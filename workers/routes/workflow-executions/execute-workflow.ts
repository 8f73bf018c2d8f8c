import { createRoute, z } from "@hono/zod-openapi";
import { and, count, eq, inArray, sql } from "drizzle-orm";
import { workflowExecutions } from "../../../db/schema";
import type { TenantDb } from "../../../db/tenant";
import type { WorkflowExecution } from "../../../db/types";
import { providerTestHeaders } from "../../agents/provider";
import { runActor } from "../../agents/run/spec";
import type { App, Context } from "../../app";
import { authorize } from "../../auth/authorize";
import { audit } from "../../lib/audit";
import { ApiError } from "../../lib/errors";
import { schemaIssues } from "../../lib/json-schema";
import { problemResponses } from "../../lib/problem-responses";
import { idempotencyKeyHeader, uuidParam } from "../../lib/schemas";
import { tenantRules } from "../../lib/tenant-limits";
import { tenantTransaction } from "../../middleware/tenant-db";
import { currentTraceparent } from "../../observability/tracing/spans";
import { admitAgainstBudgets, QUOTA_WARNING_HEADER } from "../../quotas/budget";
import { type WorkflowDefinition, workflowDefinition } from "../../workflows/definition/schema";
import type { ExecutionSpec } from "../../workflows/engine/spec";
import { jsonEqual } from "../../workflows/language/json";
import { loadWorkflow, loadWorkflowVersion } from "../workflows/load";
import { ACTIVE_EXECUTION_STATUSES, executionObject } from "./load";
import { executionSchema, toExecutionResponse } from "./schemas";

const body = z
  .object({
    input: z
      .record(z.string(), z.unknown())
      .default({})
      .openapi({ description: "Checked against the workflow's input schema.", example: { topic: "tides" } }),
    version: z
      .number()
      .int()
      .positive()
      .optional()
      .openapi({ description: "Run this version of the definition; default: the current one." }),
  })
  .strict()
  .openapi("ExecuteWorkflowRequest");

const headers = z.object({
  "idempotency-key": idempotencyKeyHeader(
    "Start this execution once: a retry with the same key answers the execution the first request " +
      "started (and makes sure it is running). The same key with another input or version is 422 " +
      "IDEMPOTENCY_KEY_REUSED.",
  ),
  "x-model-scenario": z.string().max(200).optional().openapi({
    description:
      "Test deployments only (ignored in production): forwarded to the model provider for the execution's agent steps.",
  }),
});

const route = createRoute({
  operationId: "executeWorkflow",
  tags: ["workflows"],
  method: "post",
  path: "/v1/workflows/{id}/execute",
  summary: "Start an execution of a workflow",
  description:
    "Accepts the execution and starts it in its own Durable Object; follow it at " +
    "`GET /v1/workflow-executions/{id}` or its event stream. 413 when the input is over the tenant's " +
    "`maxWorkflowPayloadBytes`, 422 when it breaks the input schema, 429 when the tenant already has " +
    "`maxConcurrentWorkflows` executions in progress, 402 when a monthly budget is used up (past its warning share, the 202 carries a " +
    "`Meridian-Quota-Warning` header), 503 when the execution could not be started (retry " +
    "with the same Idempotency-Key).",
  security: [{ bearer: [] }],
  request: {
    params: z.object({ id: uuidParam("id", "workflow") }),
    headers,
    body: { required: true, content: { "application/json": { schema: body } } },
  },
  responses: {
    202: { description: "Accepted.", content: { "application/json": { schema: executionSchema } } },
    ...problemResponses(400, 401, 402, 403, 404, 413, 422, 429, 500, 503),
  },
});

interface Accepted {
  row: WorkflowExecution;
  spec: ExecutionSpec;
  replay: boolean;
}

export function registerExecuteWorkflow(app: App) {
  app.openapi(route, async (c) => {
    const caller = authorize(c, "workflows:execute");
    const { id } = c.req.valid("param");
    const input = c.req.valid("json");
    const header = c.req.valid("header");
    const actor = runActor(caller);
    const key = header["idempotency-key"];

    // Committed before the execution's object starts writing to its row.
    const accepted = await tenantTransaction(c, async (db): Promise<Accepted> => {
      const workflow = await loadWorkflow(db, id);
      const { settings, limits, quotas } = await tenantRules(db);
      const version = input.version ?? workflow.currentVersion;
      const pinned = await loadWorkflowVersion(db, workflow.id, version);
      const spec = (row: WorkflowExecution): ExecutionSpec => ({
        tenantId: db.tenantId,
        executionId: row.id,
        workflowId: workflow.id,
        version,
        definition: workflowDefinition.parse(pinned.definition) as WorkflowDefinition,
        input: input.input,
        env: (settings.named as Record<string, unknown> | undefined) ?? {},
        actor,
        createdBy: actor.kind === "platform_admin" ? null : actor.id,
        maxPayloadBytes: limits.maxWorkflowPayloadBytes,
        providerHeaders: providerTestHeaders(header["x-model-scenario"], c.get("config")),
        traceparent: currentTraceparent(),
      });

      if (key) {
        const existing = await byIdempotencyKey(db, workflow.id, key);
        if (existing) {
          if (existing.version !== version || !jsonEqual(existing.input, input.input)) {
            throw new ApiError("IDEMPOTENCY_KEY_REUSED", {
              detail: "This Idempotency-Key started an execution with another input or version.",
            });
          }
          return { row: existing, spec: spec(existing), replay: true };
        }
      }
      checkInput(input.input, pinned.inputSchema, limits.maxWorkflowPayloadBytes);
      // Its agent steps would each be refused; refused here, nothing starts.
      const { warning } = await admitAgainstBudgets(db, quotas);
      if (warning) c.header(QUOTA_WARNING_HEADER, warning);
      await claimExecutionSlot(db, limits.maxConcurrentWorkflows);
      const [row] = await db
        .insert(workflowExecutions)
        .values({
          tenantId: db.tenantId,
          workflowId: workflow.id,
          version,
          status: "pending",
          input: input.input,
          idempotencyKey: key ?? null,
          createdBy: actor.kind === "platform_admin" ? null : actor.id,
        })
        .returning();
      if (!row) throw new Error("workflow_executions insert returned no row");
      await audit(c, {
        action: "workflow.execute",
        resourceType: "workflow_execution",
        resourceId: row.id,
        changes: { workflowId: workflow.id, version },
      });
      return { row, spec: spec(row), replay: false };
    });

    await startObject(c, accepted, key !== undefined);
    return c.json(toExecutionResponse(accepted.row), 202, {
      location: `/v1/workflow-executions/${accepted.row.id}`,
    });
  });
}

/**
 * Hands the execution to its object. Starting twice is harmless (the object carries on with
 * the first), which is what makes a replayed key a safe way to retry a start that failed.
 * Without a key the caller cannot retry, so a failed start fails the execution instead of
 * leaving it pending for ever.
 */
async function startObject(c: Context, accepted: Accepted, retryable: boolean): Promise<void> {
  try {
    await executionObject(c.env, accepted.row).start(accepted.spec);
  } catch (error) {
    c.get("logger").error("workflow execution did not start", {
      executionId: accepted.row.id,
      error: error instanceof Error ? error.message : String(error),
    });
    if (!retryable && !accepted.replay) {
      await tenantTransaction(c, (db) =>
        db
          .update(workflowExecutions)
          .set({ status: "failed", error: "the execution could not be started", finishedAt: new Date() })
          .where(
            and(eq(workflowExecutions.tenantId, db.tenantId), eq(workflowExecutions.id, accepted.row.id)),
          ),
      );
    }
    throw new ApiError("UNAVAILABLE", {
      detail: retryable
        ? "The execution could not be started; retry with the same Idempotency-Key."
        : "The execution could not be started; it is marked failed.",
    });
  }
}

async function byIdempotencyKey(
  db: TenantDb,
  workflowId: string,
  key: string,
): Promise<WorkflowExecution | undefined> {
  // Duplicates wait here for the first to commit, then find its execution.
  await db.execute(
    sql`select pg_advisory_xact_lock(hashtextextended(${`workflow-execute:${workflowId}:${key}`}, 0))`,
  );
  const [row] = await db
    .select()
    .from(workflowExecutions)
    .where(
      and(
        eq(workflowExecutions.tenantId, db.tenantId),
        eq(workflowExecutions.workflowId, workflowId),
        eq(workflowExecutions.idempotencyKey, key),
      ),
    );
  return row;
}

function checkInput(
  value: Record<string, unknown>,
  schema: Record<string, unknown> | null,
  maxBytes: number,
): void {
  const bytes = new TextEncoder().encode(JSON.stringify(value)).byteLength;
  if (bytes > maxBytes) {
    throw new ApiError("PAYLOAD_TOO_LARGE", {
      detail: `The input is ${bytes} bytes; the limit is ${maxBytes}.`,
    });
  }
  if (!schema) return;
  const issues = schemaIssues(schema, value);
  if (issues.length > 0) {
    throw new ApiError("UNPROCESSABLE", {
      detail: "The input does not match the workflow's input schema.",
      errors: issues.map((i) => ({
        path: i.path === "(root)" ? "input" : `input.${i.path}`,
        message: i.message,
      })),
    });
  }
}

/**
 * Refuses a start beyond the tenant's `maxConcurrentWorkflows`. The tenant-wide lock makes
 * count-then-insert atomic, so simultaneous starts cannot all squeeze through.
 */
async function claimExecutionSlot(db: TenantDb, max: number): Promise<void> {
  await db.execute(
    sql`select pg_advisory_xact_lock(hashtextextended(${`workflow-slots:${db.tenantId}`}, 0))`,
  );
  const [row] = await db
    .select({ n: count() })
    .from(workflowExecutions)
    .where(
      and(
        eq(workflowExecutions.tenantId, db.tenantId),
        inArray(workflowExecutions.status, [...ACTIVE_EXECUTION_STATUSES]),
      ),
    );
  if ((row?.n ?? 0) >= max) {
    throw new ApiError("RATE_LIMITED", {
      limit: "maxConcurrentWorkflows",
      detail: `The tenant already has ${max} workflow executions in progress (maxConcurrentWorkflows).`,
    });
  }
}
