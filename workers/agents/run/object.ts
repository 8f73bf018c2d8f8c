import { and, asc, eq } from "drizzle-orm";
import { messages } from "../../../db/schema";
import type { TenantDb } from "../../../db/tenant";
import type { AgentRun, Message } from "../../../db/types";
import type { Env } from "../../env";
import { errorCode } from "../../lib/errors";
import type { RunFailure } from "./spec";

/** The Durable Object that executes run `runId` (one per run, addressed by its id). */
export function runObject(env: Env, runId: string) {
  return env.AGENT_RUN.get(env.AGENT_RUN.idFromName(runId));
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
 * The run's events for a client: the object's SSE stream after `lastEventId`, passed through
 * a stream of the Worker's own whose cancel (the client went away) is reported to the object,
 * so the grace period starts even when the closed connection does not reach it.
 */
export async function followRun(
  env: Env,
  ctx: Pick<ExecutionContext, "waitUntil">,
  runId: string,
  opts: { lastEventId: string; runEnded: boolean },
): Promise<Response> {
  const object = runObject(env, runId);
  const listenerId = crypto.randomUUID();
  const events = await object.fetch("https://agent-run/events", {
    headers: {
      "last-event-id": opts.lastEventId,
      "x-listener-id": listenerId,
      "x-run-ended": opts.runEnded ? "1" : "0",
    },
  });
  if (!events.ok || !events.body) return events;
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
