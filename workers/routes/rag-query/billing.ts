import type { TenantDb } from "../../../db/tenant";
import { estimateTokens } from "../../agents/run/context";
import { type RunActor, runActor } from "../../agents/run/spec";
import type { Context } from "../../app";
import { costMicroUsd, type Price, priceTable } from "../../lib/models";
import { webhookPolicy } from "../../lib/webhooks";
import { tenantTransaction } from "../../middleware/tenant-db";
import {
  type Budget,
  budgetExhausted,
  modelCallHold,
  releaseBudget,
  reserveBudget,
} from "../../quotas/budget";
import { announceBudgetCrossings } from "../../quotas/thresholds";
import { ANSWER_SYSTEM_PROMPT, answerPrompt } from "../../rag/answer/prompt";
import type { SearchHit } from "../../rag/search/search";
import { ragAnswerEvents } from "../../usage/model-call";
import { recordUsageEvents } from "../../usage/record";

/** What an answer's model call is billed with, and the budget hold it took. */
export interface AnswerBilling {
  model: string;
  price: Price | null;
  actor: RunActor;
  budget: Budget | null;
  holdId: string | null;
}

export function answerBilling(c: Context, model: string, budget: Budget | null): AnswerBilling {
  return {
    model,
    price: priceTable(c.get("config").MODEL_PRICES)[model] ?? null,
    actor: runActor(c.get("principal")),
    budget,
    holdId: null,
  };
}

/**
 * Holds the answer's most expensive outcome against the tenant's budgets before the model is
 * asked, like an agent run's model call (docs/quotas.md). Nothing to hold without budgets.
 *
 * @throws ApiError PAYMENT_REQUIRED when the hold does not fit.
 */
export async function holdForAnswer(
  c: Context,
  billing: AnswerBilling,
  request: { question: string; hits: readonly SearchHit[]; maxTokens: number; deadline: number },
): Promise<void> {
  const { budget } = billing;
  if (!budget) return;
  const hold = modelCallHold({
    runId: crypto.randomUUID(),
    price: billing.price,
    estimatedInputTokens:
      estimateTokens(ANSWER_SYSTEM_PROMPT) + estimateTokens(answerPrompt(request.hits, request.question)),
    maxTokens: request.maxTokens,
    deadline: request.deadline,
  });
  billing.holdId = await tenantTransaction(c, (db) => reserveBudget(db, budget, hold));
  if (!billing.holdId) throw budgetExhausted(null, "call");
}

/**
 * Records the answer's usage (once, keyed by the query), announces the budget thresholds it
 * crossed and releases the hold, in the transaction that records the query.
 */
export async function settleAnswer(
  c: Context,
  db: TenantDb,
  billing: AnswerBilling,
  queryId: string,
  tokens: { inputTokens: number; outputTokens: number },
): Promise<void> {
  const usage = { ...tokens, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 };
  const events = ragAnswerEvents({
    queryId,
    model: billing.model,
    actor: billing.actor,
    price: billing.price,
    usage,
    cost: billing.price ? costMicroUsd(billing.price, usage) : 0,
  });
  const changes = await recordUsageEvents(db, events);
  await announceBudgetCrossings(db, changes, {
    queue: c.env.JOBS,
    policy: webhookPolicy(c.get("config")),
    logger: c.get("logger"),
  });
  if (billing.holdId) await releaseBudget(db, billing.holdId);
}

/** Releases the hold of an answer that failed before it was recorded (best effort: the cron is the backstop). */
export async function releaseAnswerHold(c: Context, billing: AnswerBilling): Promise<void> {
  const { holdId } = billing;
  if (!holdId) return;
  await tenantTransaction(c, (db) => releaseBudget(db, holdId)).catch(() => undefined);
}
