import { z } from "@hono/zod-openapi";
import { getTableColumns, sql } from "drizzle-orm";
import { MCP_EXECUTION_STATUSES, MCP_TOOL_SOURCES, mcpToolExecutions } from "../../../db/schema";
import type { McpToolExecution } from "../../../db/types";
import { iso, timestamp } from "../../lib/schemas";

const failureSchema = z
  .object({
    message: z.string().openapi({ example: "Division by zero has no result." }),
    reason: z
      .string()
      .nullable()
      .openapi({
        description:
          "Stable reason: the tool's own (`division_by_zero`, `overflow`, `not_finite`, `invalid_exponent`, " +
          "...) or the platform's: `invalid_input` (the input fails the tool's schema; see `issues`), " +
          "`timeout` (30 s), `cancelled`, `internal_error`. Null for a remote tool's error without one.",
        example: "division_by_zero",
      }),
  })
  .openapi("McpToolFailure");

export const executionSchema = z
  .object({
    id: z.string().uuid().openapi({ example: "0193b2c4-8f1e-7a3b-9c2d-4e5f6a7b8c9d" }),
    source: z.enum(MCP_TOOL_SOURCES).openapi({ description: "`builtin` or `remote`.", example: "builtin" }),
    serverId: z
      .string()
      .uuid()
      .nullable()
      .openapi({ description: "The remote server; null for a built-in one." }),
    serverName: z.string().openapi({ example: "calculator" }),
    toolName: z.string().openapi({ example: "divide" }),
    runId: z.string().uuid().nullable().openapi({ description: "The agent run that made the call, if any." }),
    status: z.enum(MCP_EXECUTION_STATUSES).openapi({ example: "succeeded" }),
    error: failureSchema.nullable(),
    inputBytes: z.number().int().nullable().openapi({ description: "Size of the input as UTF-8 JSON." }),
    outputBytes: z.number().int().nullable().openapi({ description: "Size of the output as UTF-8 JSON." }),
    durationMs: z.number().int().nullable().openapi({ example: 3 }),
    startedAt: timestamp.nullable(),
    finishedAt: timestamp.nullable(),
    createdBy: z
      .string()
      .uuid()
      .nullable()
      .openapi({ description: "The user or API key that made the call (directly or through an agent run)." }),
    createdAt: timestamp,
  })
  .openapi("McpToolExecution");
export type McpToolExecutionResponse = z.infer<typeof executionSchema>;

const stored = (what: string) =>
  z.unknown().openapi({
    description:
      `The ${what} as recorded. Over 64 KiB of JSON it is stored cut: ` +
      "`{ truncated: true, bytes, preview }` with the first 64 KiB of its JSON text.",
  });

export const executionDetailSchema = executionSchema
  .extend({
    input: stored("input"),
    output: stored("output (for a failed built-in call, the `{ error, reason }` its caller saw)"),
  })
  .openapi("McpToolExecutionDetail");
export type McpToolExecutionDetailResponse = z.infer<typeof executionDetailSchema>;

const { input: _input, output: _output, ...summaryColumns } = getTableColumns(mcpToolExecutions);

/**
 * What a list selects: every column but the (up to 64 KiB) input and output, plus the failure's
 * reason, which a failed built-in call keeps in its output (`{ error, reason }`).
 */
export const executionSummaryColumns = {
  ...summaryColumns,
  errorReason: sql<string | null>`${mcpToolExecutions.output} ->> 'reason'`,
};

type ExecutionSummary = Omit<McpToolExecution, "input" | "output"> & { errorReason: string | null };

export function toExecutionResponse(row: ExecutionSummary): McpToolExecutionResponse {
  return {
    id: row.id,
    source: row.source,
    serverId: row.serverId,
    serverName: row.serverName,
    toolName: row.toolName,
    runId: row.runId,
    status: row.status,
    error: row.error === null ? null : { message: row.error, reason: row.errorReason },
    inputBytes: row.inputBytes,
    outputBytes: row.outputBytes,
    durationMs: row.durationMs,
    startedAt: row.startedAt ? iso(row.startedAt) : null,
    finishedAt: row.finishedAt ? iso(row.finishedAt) : null,
    createdBy: row.createdBy,
    createdAt: iso(row.createdAt),
  };
}

export function toExecutionDetailResponse(row: McpToolExecution): McpToolExecutionDetailResponse {
  const output = row.output as { reason?: unknown } | null;
  const errorReason =
    output && typeof output === "object" && typeof output.reason === "string" ? output.reason : null;
  return {
    ...toExecutionResponse({ ...row, errorReason }),
    input: row.input ?? null,
    output: row.output ?? null,
  };
}
