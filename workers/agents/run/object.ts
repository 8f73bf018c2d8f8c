import { and, asc, eq } from "drizzle-orm";
import { messages } from "../../../db/schema";
import type { TenantDb } from "../../../db/tenant";
import type { AgentRun, Message } from "../../../db/types";
import type { Env } from "../../env";
import { ApiError, errorCode } from "../../lib/errors";
import { ACTIVE_RUN_STATUSES } from "./prepare";
import type { RunFailure } from "./spec";

/**
 * The Durable Object that executes a run: one per run, named `<tenant>:<run>` like every key
 * Meridian keeps outside PostgreSQL. Callers have loaded the run through the tenant's
 * transaction first, so another tenant's run is a 404 before any object is reached.
 */
export function runObject(env: Env, run: Pick<AgentRun, "tenantId" | "id">) {
  return env.AGENT_RUN.get(env.AGENT_RUN.idFromName(`${run.tenantId}:${run.id}`));
}

/** The messages a run wrote, the user's first, in sequence order. */
export function runMessages(db: TenantDb, runId: string): Promise<Message[]> {
  return db
    .select()
    .from(messages)
    .where(and(eq(messages.tenantId, db.tenantId), eq(messages.runId, runId)))
    .orderBy(asc(messages.sequence));
}

/** The failure a finished run recorded as `CODE: detail`, for callers who read it back later. */
export function recordedFailure(run: AgentRun): RunFailure | null {
  if (run.status !== "failed" || !run.error) return null;
  const at = run.error.indexOf(": ");
  const code = errorCode.safeParse(at > 0 ? run.error.slice(0, at) : "");
  return code.success
    ? { code: code.data, detail: run.error.slice(at + 2) }
    : { code: "INTERNAL", detail: run.error };
}

/**
 * The run's events for a client: the object's SSE stream after `lastEventId` (410 GONE when a
 * finished run's events have expired), passed through
 * a stream of the Worker's own whose cancel (the client went away) is reported to the object,
 * so the grace period starts even when the closed connection does not reach it.
 */
export async function followRun(
  env: Env,
  ctx: Pick<ExecutionContext, "waitUntil">,
  run: Pick<AgentRun, "tenantId" | "id" | "status">,
  opts: { lastEventId: string },
): Promise<Response> {
  const object = runObject(env, run);
  const ended = !(ACTIVE_RUN_STATUSES as readonly string[]).includes(run.status);
  const listenerId = crypto.randomUUID();
  const events = await object.fetch("https://agent-run/events", {
    headers: {
      "last-event-id": opts.lastEventId,
      "x-listener-id": listenerId,
      "x-run-ended": ended ? "1" : "0",
    },
  });
  if (events.status === 404) {
    await events.body?.cancel();
    throw new ApiError("GONE", { detail: `The events of run ${run.id} are no longer kept.` });
  }
  if (!events.body) throw new Error(`run ${run.id}: the event stream has no body`);
  const reader = events.body.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { value, done } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel(reason) {
      ctx.waitUntil(Promise.allSettled([reader.cancel(reason), object.detach(listenerId)]));
    },
  });
  return new Response(body, { status: 200, headers: events.headers });
}
