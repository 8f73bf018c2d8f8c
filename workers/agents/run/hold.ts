import type Anthropic from "@anthropic-ai/sdk";
import { getTableColumns, sql } from "drizzle-orm";
import { messages } from "../../../db/schema";
import type { TenantDb } from "../../../db/tenant";
import type { Message, NewMessage } from "../../../db/types";
import { type Budget, type Hold, modelCallHold, reserveBudgetCtes } from "../../quotas/budget";
import { type FitResult, fitToContext } from "./context";
import type { RunSpec } from "./spec";

/** A model call's hold, with the budgets it is held against. */
export interface CallHold {
  budget: Budget;
  hold: Hold;
}

/**
 * A hold that a write took ahead of its model call (see RunStore.holdBudget): what it holds,
 * and its id, or null when it did not fit. Plain JSON: the run's spec carries the first one.
 */
export interface HeldAhead {
  id: string | null;
  tokens: number;
  microUsd: number;
}

/** A model call's messages, cut to the model's window, with the estimate of its input. */
export function fitPrompt(
  spec: Pick<RunSpec, "systemPrompt" | "contextWindow" | "limits">,
  tools: Anthropic.Tool[],
  transcript: Anthropic.MessageParam[],
): FitResult {
  return fitToContext({
    ...(spec.systemPrompt ? { system: spec.systemPrompt } : {}),
    tools,
    messages: transcript,
    contextWindow: spec.contextWindow,
    maxOutputTokens: spec.limits.maxTokens,
  });
}

/** What the model call sending `fitted` holds; null when the tenant has no budgets. */
export function callHold(
  spec: Pick<RunSpec, "runId" | "price" | "budget" | "limits">,
  fitted: FitResult,
  deadline: number,
): CallHold | null {
  if (!spec.budget) return null;
  const hold = modelCallHold({
    runId: spec.runId,
    price: spec.price,
    estimatedInputTokens: fitted.estimatedInputTokens,
    maxTokens: spec.limits.maxTokens,
    deadline,
  });
  return { budget: spec.budget, hold };
}

/**
 * Inserts one message of a run; with `next`, takes that model call's hold in the same
 * statement, so the hold costs no round trip of its own.
 */
export async function insertMessage(
  db: TenantDb,
  values: Omit<NewMessage, "tenantId">,
  next: CallHold | null,
): Promise<{ row: Message; held: HeldAhead | null }> {
  const hold = next && reserveBudgetCtes(db, next.budget, next.hold);
  const [inserted] = await db
    .with(...(hold?.ctes ?? []))
    .insert(messages)
    .values({ ...values, tenantId: db.tenantId })
    .returning({ ...getTableColumns(messages), fits: hold?.fits ?? sql<boolean>`false` });
  if (!inserted) throw new Error("messages insert returned no row");
  const { fits, ...row } = inserted;
  const held = next &&
    hold && { id: fits ? hold.id : null, tokens: next.hold.tokens, microUsd: next.hold.microUsd };
  return { row, held };
}
