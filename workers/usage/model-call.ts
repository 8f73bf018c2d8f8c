import type { UsageMeter } from "../../db/schema/usage";
import type { RunActor } from "../agents/run/spec";
import type { Price, TokenUsage } from "../lib/models";
import type { UsageEvent } from "./record";

const TOKEN_METERS: ReadonlyArray<[UsageMeter, keyof TokenUsage, keyof Price]> = [
  ["model_input_tokens", "inputTokens", "inputPerMTok"],
  ["model_output_tokens", "outputTokens", "outputPerMTok"],
  ["model_cache_write_tokens", "cacheCreationInputTokens", "cacheWritePerMTok"],
  ["model_cache_read_tokens", "cacheReadInputTokens", "cacheReadPerMTok"],
];

/** The user or API key usage is charged to: the run's starter (none for the platform admin). */
export function principalColumns(actor: RunActor): Pick<UsageEvent, "userId" | "apiKeyId"> {
  if (actor.kind === "user") return { userId: actor.id, apiKeyId: null };
  if (actor.kind === "api_key") return { userId: null, apiKeyId: actor.id };
  return { userId: null, apiKeyId: null };
}

/**
 * The events of one model call: one per kind of token it used, keyed `<work>:<meter>` so a
 * replay of the work reproduces them. Each meter's cost is its tokens at the meter's price;
 * rounding is settled on the first event so the events add up to exactly the call's `cost`
 * (what the run's totals, its message or the query's answer carry).
 */
function tokenEvents(
  work: string,
  columns: Omit<UsageEvent, "eventKey" | "meter" | "quantity" | "unit" | "costMicroUsd">,
  call: { price: Price | null; usage: TokenUsage; cost: number },
): UsageEvent[] {
  const events: UsageEvent[] = TOKEN_METERS.filter(([, field]) => call.usage[field] > 0).map(
    ([meter, field, rate]) => ({
      ...columns,
      eventKey: `${work}:${meter}`,
      meter,
      quantity: call.usage[field],
      unit: "tokens",
      costMicroUsd: call.price ? Math.round(call.usage[field] * call.price[rate]) : 0,
    }),
  );
  const first = events[0];
  if (first) {
    const rest = events.reduce((sum, e) => sum + (e.costMicroUsd ?? 0), 0) - (first.costMicroUsd ?? 0);
    first.costMicroUsd = Math.max(0, call.cost - rest);
  }
  return events;
}

/** One model call as it is billed: who made it, with which model, what it used and cost. */
interface BilledCall {
  model: string;
  actor: RunActor;
  price: Price | null;
  usage: TokenUsage;
  cost: number;
}

/** A run's model call, keyed by the run and the call's number. */
export function modelCallEvents(
  call: BilledCall & { runId: string; call: number; agentId: string },
): UsageEvent[] {
  return tokenEvents(
    `model_call:${call.runId}:${call.call}`,
    {
      model: call.model,
      agentId: call.agentId,
      resourceType: "agent_run",
      resourceId: call.runId,
      ...principalColumns(call.actor),
    },
    call,
  );
}

/** The model call behind a `POST /v1/rag/query` answer, keyed by the recorded query. */
export function ragAnswerEvents(call: BilledCall & { queryId: string }): UsageEvent[] {
  return tokenEvents(
    `rag_answer:${call.queryId}`,
    {
      model: call.model,
      resourceType: "rag_query",
      resourceId: call.queryId,
      ...principalColumns(call.actor),
    },
    call,
  );
}
