import { connect } from "../../../db/client";
import { auditLogs } from "../../../db/schema";
import type { TenantDb } from "../../../db/tenant";
import { withTenant } from "../../../db/tenant";
import type { AgentRun } from "../../../db/types";
import { providerFor } from "../../../workers/agents/provider";
import { recordedFailure, runMessages, runObject } from "../../../workers/agents/run/object";
import { type Prepared, prepareRun } from "../../../workers/agents/run/prepare";
import { type RunFailure, runActor } from "../../../workers/agents/run/spec";
import { storedText } from "../../../workers/agents/run/transcript";
import { loadRun } from "../../../workers/routes/agent-runs/load";
import { type McpToolContext, ToolError } from "../../server/types";
import { asToolErrors } from "./access";

/** A run as the meridian tools report it. */
export interface RunView {
  runId: string;
  agentId: string;
  conversationId: string;
  /** `running` or `awaiting_approval` when the run had not ended yet; see `get_run`. */
  status: AgentRun["status"];
  stopReason: string | null;
  /** Text of the run's last assistant message; empty when there is none (yet). */
  output: string;
  /** Set when the run failed: the error code and what went wrong. */
  error: RunFailure | null;
}

/**
 * Stores a new sync run in a short tenant transaction of its own, on a connection of its own,
 * and commits it. A built-in tool otherwise runs inside the MCP request's transaction (in a
 * savepoint), which commits only after the tool returns; the run's Durable Object, which
 * writes to these rows from its own connection, would then wait on rows it cannot see. The
 * run is recorded in the audit log as `agent.execute` (with `via: "mcp"`), like
 * `POST /v1/agents/{id}/execute`.
 *
 * @throws ToolError not_found (agent, conversation), conflict (a run in progress in the
 *   conversation), rate_limited (the agent's concurrency limit), unprocessable (a conversation
 *   with another agent, a model no longer allowed), forbidden (suspended tenant),
 *   unavailable (no model provider configured).
 */
export async function prepareSyncRun(
  ctx: McpToolContext,
  input: {
    agentId: string;
    message: string;
    conversationId?: string | undefined;
    /** Extra headers for the run's model calls (tests: the local model server's `x-model-scenario`). */
    providerHeaders?: Record<string, string>;
    /** See RunSpec.delegationDepth. @default 0 */
    delegationDepth?: number;
  },
): Promise<Extract<Prepared, { kind: "new" }>> {
  try {
    providerFor(ctx.config);
  } catch {
    throw new ToolError("No model provider is configured for this deployment.", "unavailable");
  }
  const actor = runActor(ctx.principal);
  const client = await connect(ctx.config);
  try {
    const prepared = await asToolErrors(() =>
      withTenant(client, ctx.tenantId, async (db, state) => {
        if (!state.tenantActive) throw new ToolError("The tenant is suspended or deleted.", "forbidden");
        const result = await prepareRun(db, ctx.config, {
          agentId: input.agentId,
          message: input.message,
          conversationId: input.conversationId,
          mode: "sync",
          createdBy: actor.kind === "platform_admin" ? null : actor.id,
          actor,
          providerHeaders: input.providerHeaders ?? {},
          delegationDepth: input.delegationDepth ?? 0,
        });
        if (result.kind === "new") {
          await db.insert(auditLogs).values({
            tenantId: db.tenantId,
            actorType: actor.kind,
            actorId: actor.kind === "platform_admin" ? null : actor.id,
            action: "agent.execute",
            resourceType: "agent_run",
            resourceId: result.run.id,
            changes: {
              agentId: input.agentId,
              conversationId: result.run.conversationId,
              mode: result.run.mode,
              via: "mcp",
            },
          });
        }
        return result;
      }),
    );
    // Without an idempotency key, prepareRun always stores a new run.
    if (prepared.kind !== "new") throw new Error("prepareRun returned an existing run without a key");
    return prepared;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Waits for a started run to end, at most `waitMs`, or until `signal` aborts, in which case
 * the run is cancelled (best effort: the MCP request went away or hit the tool deadline, and
 * nobody would read the answer). Returns whether the run ended within the wait.
 */
export async function awaitRun(
  ctx: McpToolContext,
  run: Pick<AgentRun, "tenantId" | "id">,
  waitMs: number,
): Promise<boolean> {
  const object = runObject(ctx.env, run);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await new Promise<boolean>((resolve, reject) => {
      timer = setTimeout(() => resolve(false), waitMs);
      onAbort = () => {
        object.cancel("client_disconnected").catch(() => undefined);
        reject(new ToolError(`The call was cancelled; run ${run.id} was cancelled with it.`, "cancelled"));
      };
      if (ctx.signal.aborted) onAbort();
      else ctx.signal.addEventListener("abort", onAbort, { once: true });
      // A failing wait still means the object is done with the run: its row says how it ended.
      object.result().then(
        () => resolve(true),
        () => resolve(true),
      );
    });
  } finally {
    clearTimeout(timer);
    if (onAbort) ctx.signal.removeEventListener("abort", onAbort);
  }
}

/**
 * The run as recorded in PostgreSQL, read through the caller's tenant transaction (read
 * committed, so it sees what the run's object committed meanwhile). Another tenant's run is
 * hidden by RLS and reads as not found.
 *
 * @throws ToolError not_found
 */
export async function readRun(db: TenantDb, runId: string): Promise<RunView> {
  const run = await asToolErrors(() => loadRun(db, runId));
  const rows = await runMessages(db, run.id);
  const last = rows.filter((m) => m.role === "assistant").at(-1);
  return {
    runId: run.id,
    agentId: run.agentId,
    conversationId: run.conversationId,
    status: run.status,
    stopReason: run.stopReason,
    output: last ? storedText(last.content) : "",
    error: recordedFailure(run),
  };
}
