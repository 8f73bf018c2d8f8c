import { and, asc, eq, inArray, isNull, sql } from "drizzle-orm";
import {
  agentRuns,
  agents,
  agentVersions,
  budgetPeriods,
  conversations,
  messages,
  tenants,
} from "../../../db/schema";
import type { TenantDb } from "../../../db/tenant";
import type { Agent, AgentRun, Message, Tenant } from "../../../db/types";
import type { Config } from "../../env";
import { ApiError } from "../../lib/errors";
import { effectiveLimits, type Limits, type PartialLimits, quotasOf } from "../../lib/limits";
import { allowedModels, modelSpec, priceTable } from "../../lib/models";
import { currentTraceparent } from "../../observability/tracing/spans";
import {
  type Budget,
  budgetOf,
  NOTHING_SPENT,
  periodOf,
  quotaWarning,
  refuseIfExhausted,
} from "../../quotas/budget";
import { loadConversation } from "../../routes/conversations/load";
import { type CallHold, callHold, fitPrompt, insertMessage } from "./hold";
import type { RunActor, RunSpec, RunTool } from "./spec";
import { toParams } from "./transcript";

/** Statuses of a run that has not ended; such a run holds its conversation and a concurrency slot. */
export const ACTIVE_RUN_STATUSES = ["queued", "running", "awaiting_approval"] as const;

/** The agent fields a run is built from: the live agent, or the version snapshot it pinned. */
type Definition = Pick<Agent, "model" | "systemPrompt" | "tools" | "resourceLimits">;

export interface PrepareInput {
  agentId: string;
  message: string;
  conversationId?: string | undefined;
  mode: AgentRun["mode"];
  /** The user or API key starting the run. */
  createdBy: string | null;
  /** Who starts it, with the role its tools act with. */
  actor: RunActor;
  idempotencyKey?: string | undefined;
  providerHeaders?: Record<string, string>;
  /** Run this version of the agent instead of its current one (an `agent` tool that pins one). */
  agentVersion?: number | undefined;
  /** See RunSpec.delegationDepth. @default 0 */
  delegationDepth?: number | undefined;
}

export type Prepared =
  /** A new run, stored and ready for its Durable Object (async runs: for the queue). */
  | {
      kind: "new";
      run: AgentRun;
      spec: RunSpec;
      /** Set when the tenant is past the warning share of a budget (see QUOTA_WARNING_HEADER). */
      quotaWarning: string | null;
    }
  /** The run an earlier request with the same `Idempotency-Key` started. */
  | { kind: "existing"; run: AgentRun };

/**
 * Stores a new run inside the request's transaction: the conversation (new, or the caller's,
 * locked), the user's message and the `agent_runs` row, after checking the agent's
 * concurrency limit and that the conversation has no run in progress. Returns the spec the
 * run's Durable Object executes; the caller hands it over only after this transaction has
 * committed, so the object never writes against rows it cannot see yet.
 *
 * @throws ApiError NOT_FOUND (agent, pinned agent version, conversation), UNPROCESSABLE
 *   (conversation with another agent), CONFLICT (a run in progress in the conversation),
 *   RATE_LIMITED (too many runs of the agent at once), PAYMENT_REQUIRED (a monthly budget is
 *   spent or held in full).
 */
export async function prepareRun(db: TenantDb, config: Config, input: PrepareInput): Promise<Prepared> {
  if (input.idempotencyKey && input.createdBy) {
    // Duplicates wait here for the first to commit, then find its run.
    await db.execute(
      sql`select pg_advisory_xact_lock(hashtextextended(${`agent-run-key:${input.createdBy}:${input.idempotencyKey}`}, 0))`,
    );
    const existing = await runByIdempotencyKey(db, input.createdBy, input.idempotencyKey);
    if (existing) return checkSameRequest(db, existing, input);
  }
  const { agent, definition, version, limits, budget, quotaWarning } = await loadAgentAndLimits(
    db,
    input.agentId,
    input.agentVersion,
  );
  await claimConcurrencySlot(db, agent.id, limits);
  const { conversationId, history } = await openConversation(db, agent, input);

  const startedAt = Date.now();
  const inserted = await db
    .insert(agentRuns)
    .values({
      tenantId: db.tenantId,
      agentId: agent.id,
      agentVersion: version,
      conversationId,
      status: input.mode === "async" ? "queued" : "running",
      mode: input.mode,
      model: definition.model,
      createdBy: input.createdBy,
      idempotencyKey: input.idempotencyKey ?? null,
      startedAt: new Date(startedAt),
    })
    .onConflictDoNothing()
    .returning();
  const run = inserted[0];
  if (!run) {
    // A concurrent request with the same key won the insert (it waited for that one to commit).
    const existing = input.idempotencyKey
      ? await runByIdempotencyKey(db, input.createdBy, input.idempotencyKey)
      : undefined;
    if (!existing) throw new Error("agent_runs insert returned no row");
    return checkSameRequest(db, existing, input);
  }
  const userMessage = {
    conversationId,
    sequence: (history.at(-1)?.sequence ?? 0) + 1,
    role: "user" as const,
    content: [{ type: "text", text: input.message }],
    runId: run.id,
  };
  const spec = buildSpec(config, definition, {
    run,
    limits,
    budget,
    history: [...history, userMessage],
    providerHeaders: input.providerHeaders ?? {},
    actor: input.actor,
    delegationDepth: input.delegationDepth ?? 0,
  });
  const { held } = await insertMessage(db, userMessage, firstCallHold(spec));
  return { kind: "new", run, spec: held ? { ...spec, firstHold: held } : spec, quotaWarning };
}

/**
 * The run's first model call holds its share of the budgets in the statement that stores the
 * user's message, so the run's object makes that call without a transaction of its own. The
 * tools' definitions are left out of the estimate (the object resolves them; it holds their
 * share itself). An async run may wait in a queue, where a hold would only lock budget away:
 * its first hold is taken when it starts (see executeRun).
 */
function firstCallHold(spec: RunSpec): CallHold | null {
  if (spec.mode === "async") return null;
  const deadline = spec.startedAt + spec.limits.maxExecutionSeconds * 1000;
  return callHold(spec, fitPrompt(spec, [], spec.transcript), deadline);
}

/**
 * The spec of a run stored earlier (an async run picked up by the queue consumer): the agent
 * version it pinned, the conversation up to and including its user message.
 *
 * @throws ApiError NOT_FOUND when the run or its agent version is gone.
 */
export async function specForStoredRun(
  db: TenantDb,
  config: Config,
  run: AgentRun,
  actor: RunActor,
  providerHeaders: Record<string, string> = {},
  /** See RunSpec.delegationDepth. */
  delegationDepth = 0,
): Promise<RunSpec> {
  const [version] = await db
    .select()
    .from(agentVersions)
    .where(
      and(
        eq(agentVersions.tenantId, db.tenantId),
        eq(agentVersions.agentId, run.agentId),
        eq(agentVersions.version, run.agentVersion),
      ),
    );
  if (!version) throw new ApiError("NOT_FOUND", { detail: `Agent ${run.agentId} not found.` });
  const { limits, budget } = await rulesFor(db, version);
  const history = await db
    .select()
    .from(messages)
    .where(and(eq(messages.tenantId, db.tenantId), eq(messages.conversationId, run.conversationId)))
    .orderBy(asc(messages.sequence));
  return buildSpec(config, version, {
    run,
    limits,
    budget,
    history,
    providerHeaders,
    actor,
    delegationDepth,
  });
}

function buildSpec(
  config: Config,
  definition: Definition,
  parts: {
    run: AgentRun;
    limits: Limits;
    budget: Budget | null;
    history: Pick<Message, "role" | "content" | "sequence">[];
    providerHeaders: Record<string, string>;
    actor: RunActor;
    delegationDepth: number;
  },
): RunSpec {
  const { run } = parts;
  const model = modelSpec(definition.model);
  return {
    tenantId: run.tenantId,
    runId: run.id,
    agentId: run.agentId,
    agentVersion: run.agentVersion,
    conversationId: run.conversationId,
    mode: run.mode,
    model: definition.model,
    systemPrompt: definition.systemPrompt,
    tools: runTools(definition),
    actor: parts.actor,
    // Never ask for more output than the model can give.
    limits: {
      ...parts.limits,
      maxTokens: Math.min(parts.limits.maxTokens, model?.maxOutputTokens ?? Number.POSITIVE_INFINITY),
    },
    price: priceTable(config.MODEL_PRICES)[definition.model] ?? null,
    budget: parts.budget,
    contextWindow: model?.contextWindow ?? 200_000,
    minCacheableTokens: model?.minCacheableTokens ?? 1024,
    transcript: toParams(parts.history),
    nextSequence: (parts.history.at(-1)?.sequence ?? 0) + 1,
    startedAt: run.startedAt.getTime(),
    providerHeaders: parts.providerHeaders,
    approvalTtlSeconds: config.AGENT_APPROVAL_TTL_SECONDS,
    delegationDepth: parts.delegationDepth,
    traceparent: currentTraceparent(),
  };
}

type TenantRules = { settings: Tenant["settings"]; limits: Tenant["limits"] } | undefined;

/**
 * The agent's limits: its own overrides, then the tenant's defaults, capped by the tenant's
 * ceiling. Also re-checks the tenant's model allow-list, which may have narrowed since the
 * agent was saved.
 *
 * @throws ApiError UNPROCESSABLE when the agent's model is no longer allowed.
 */
export async function rulesFor(
  db: TenantDb,
  definition: Pick<Definition, "resourceLimits" | "model">,
): Promise<{ limits: Limits; budget: Budget | null }> {
  const [tenant] = await db
    .select({ settings: tenants.settings, limits: tenants.limits })
    .from(tenants)
    .where(eq(tenants.id, db.tenantId));
  return { limits: limitsUnder(tenant, definition), budget: budgetOf(quotasOf(tenant?.limits)) };
}

function limitsUnder(tenant: TenantRules, definition: Pick<Definition, "resourceLimits" | "model">): Limits {
  if (!allowedModels(tenant?.settings.allowedModels).includes(definition.model)) {
    throw new ApiError("UNPROCESSABLE", {
      detail: `The agent's model ${definition.model} is no longer allowed for this tenant; update the agent.`,
      errors: [{ path: "model", message: "not allowed" }],
    });
  }
  return effectiveLimits({
    ceiling: tenant?.limits as PartialLimits | undefined,
    defaults: tenant?.settings.defaultLimits as PartialLimits | undefined,
    agent: definition.resourceLimits as PartialLimits,
  });
}

/**
 * The live agent, the definition to run (its current one, or the pinned `version`), its
 * limits and the tenant's budgets with this month's spend, in one round trip (the run's first
 * token waits on every round trip before it).
 *
 * @throws ApiError NOT_FOUND (agent, or the pinned version), UNPROCESSABLE (model no longer
 *   allowed), PAYMENT_REQUIRED (a budget has nothing left)
 */
async function loadAgentAndLimits(
  db: TenantDb,
  agentId: string,
  pinned?: number,
): Promise<{
  agent: Agent;
  definition: Definition;
  version: number;
  limits: Limits;
  budget: Budget | null;
  quotaWarning: string | null;
}> {
  const period = periodOf();
  const [row] = await db
    .select({
      agent: agents,
      pinned: agentVersions,
      settings: tenants.settings,
      limits: tenants.limits,
      spend: budgetPeriods,
    })
    .from(agents)
    .innerJoin(tenants, eq(tenants.id, agents.tenantId))
    .leftJoin(
      budgetPeriods,
      and(eq(budgetPeriods.tenantId, agents.tenantId), eq(budgetPeriods.period, period)),
    )
    .leftJoin(
      agentVersions,
      and(
        eq(agentVersions.tenantId, agents.tenantId),
        eq(agentVersions.agentId, agents.id),
        eq(agentVersions.version, pinned ?? -1),
      ),
    )
    .where(and(eq(agents.tenantId, db.tenantId), eq(agents.id, agentId), isNull(agents.deletedAt)));
  if (!row) throw new ApiError("NOT_FOUND", { detail: `Agent ${agentId} not found.` });
  if (pinned !== undefined && !row.pinned) {
    throw new ApiError("NOT_FOUND", { detail: `Agent ${agentId} has no version ${pinned}.` });
  }
  const definition = row.pinned ?? row.agent;
  const quotas = quotasOf(row.limits);
  const budget = budgetOf(quotas);
  const spend = row.spend ?? { period, ...NOTHING_SPENT };
  refuseIfExhausted(budget, spend);
  return {
    agent: row.agent,
    definition,
    version: row.pinned?.version ?? row.agent.currentVersion,
    limits: limitsUnder({ settings: row.settings, limits: row.limits }, definition),
    budget,
    quotaWarning: budget ? quotaWarning(quotas, spend) : null,
  };
}

/** The tools the agent declares, as plain data for the spec. */
function runTools(definition: Definition): RunTool[] {
  return (definition.tools as Partial<RunTool>[]).flatMap((entry) =>
    typeof entry?.name === "string" && typeof entry.type === "string"
      ? [
          {
            name: entry.name,
            type: entry.type,
            requiresApproval: entry.requiresApproval === true,
            ...(typeof entry.description === "string" ? { description: entry.description } : {}),
            ...(entry.config ? { config: entry.config } : {}),
          },
        ]
      : [],
  );
}

/**
 * Serialises run starts per agent with a transaction-scoped advisory lock, then counts the
 * agent's unfinished runs. Running runs untouched for an hour are not counted, so a run whose
 * object was lost cannot hold a slot forever.
 */
async function claimConcurrencySlot(db: TenantDb, agentId: string, limits: Limits): Promise<void> {
  await db.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`agent-runs:${agentId}`}, 0))`);
  const [row] = await db
    .select({ active: sql<number>`count(*)::int` })
    .from(agentRuns)
    .where(
      and(
        eq(agentRuns.tenantId, db.tenantId),
        eq(agentRuns.agentId, agentId),
        inArray(agentRuns.status, [...ACTIVE_RUN_STATUSES]),
        // A run waiting for a human holds its slot for as long as the approval may take.
        sql`(${agentRuns.status} = 'awaiting_approval' or ${agentRuns.updatedAt} > now() - interval '1 hour')`,
      ),
    );
  if ((row?.active ?? 0) >= limits.maxConcurrentExecutions) {
    throw new ApiError("RATE_LIMITED", {
      limit: "maxConcurrentExecutions",
      detail: `The agent already has ${limits.maxConcurrentExecutions} runs in progress (maxConcurrentExecutions).`,
    });
  }
}

/**
 * The conversation to run in: a new one, or the caller's, locked so two starts cannot race,
 * and refused while another run is still writing to it.
 */
async function openConversation(
  db: TenantDb,
  agent: Agent,
  input: PrepareInput,
): Promise<{ conversationId: string; history: Message[] }> {
  if (!input.conversationId) {
    const [created] = await db
      .insert(conversations)
      .values({
        tenantId: db.tenantId,
        agentId: agent.id,
        title: input.message.replace(/\s+/g, " ").trim().slice(0, 80) || null,
        createdBy: input.createdBy,
      })
      .returning();
    if (!created) throw new Error("conversations insert returned no row");
    return { conversationId: created.id, history: [] };
  }
  const conversation = await loadConversation(db, input.conversationId);
  if (conversation.agentId !== agent.id) {
    throw new ApiError("UNPROCESSABLE", {
      detail: `Conversation ${conversation.id} is with another agent.`,
      errors: [{ path: "conversationId", message: "belongs to another agent" }],
    });
  }
  await db
    .select({ id: conversations.id })
    .from(conversations)
    .where(
      and(
        eq(conversations.tenantId, db.tenantId),
        eq(conversations.id, conversation.id),
        isNull(conversations.deletedAt),
      ),
    )
    .for("update");
  const [busy] = await db
    .select({ id: agentRuns.id })
    .from(agentRuns)
    .where(
      and(
        eq(agentRuns.tenantId, db.tenantId),
        eq(agentRuns.conversationId, conversation.id),
        inArray(agentRuns.status, [...ACTIVE_RUN_STATUSES]),
      ),
    )
    .limit(1);
  if (busy) {
    throw new ApiError("CONFLICT", {
      detail: `Conversation ${conversation.id} has a run in progress (${busy.id}); wait for it or cancel it.`,
    });
  }
  const history = await db
    .select()
    .from(messages)
    .where(and(eq(messages.tenantId, db.tenantId), eq(messages.conversationId, conversation.id)))
    .orderBy(asc(messages.sequence));
  return { conversationId: conversation.id, history };
}

async function runByIdempotencyKey(
  db: TenantDb,
  createdBy: string | null,
  key: string,
): Promise<AgentRun | undefined> {
  if (!createdBy) return undefined;
  const [run] = await db
    .select()
    .from(agentRuns)
    .where(
      and(
        eq(agentRuns.tenantId, db.tenantId),
        eq(agentRuns.createdBy, createdBy),
        eq(agentRuns.idempotencyKey, key),
      ),
    );
  return run;
}

/**
 * A key reused for another request (agent, mode, conversation or message) is the caller's
 * mistake, not a replay.
 *
 * @throws ApiError IDEMPOTENCY_KEY_REUSED
 */
async function checkSameRequest(db: TenantDb, run: AgentRun, input: PrepareInput): Promise<Prepared> {
  const [first] = await db
    .select({ content: messages.content })
    .from(messages)
    .where(and(eq(messages.tenantId, db.tenantId), eq(messages.runId, run.id), eq(messages.role, "user")))
    .orderBy(asc(messages.sequence))
    .limit(1);
  const blocks = (first?.content ?? []) as { type?: string; text?: string }[];
  const sameMessage = blocks.length === 1 && blocks[0]?.type === "text" && blocks[0].text === input.message;
  const sameConversation = input.conversationId === undefined || input.conversationId === run.conversationId;
  if (run.agentId !== input.agentId || run.mode !== input.mode || !sameMessage || !sameConversation) {
    throw new ApiError("IDEMPOTENCY_KEY_REUSED", {
      detail: "This Idempotency-Key was used for a different request.",
    });
  }
  return { kind: "existing", run };
}
