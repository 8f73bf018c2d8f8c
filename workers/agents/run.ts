import Anthropic from "@anthropic-ai/sdk";
import { and, asc, eq, isNull } from "drizzle-orm";
import { agentRuns, conversations, messages, tenants, toolExecutions } from "../../db/schema";
import type { TenantDb } from "../../db/tenant";
import type { Agent, AgentRun, Message } from "../../db/types";
import type { Config } from "../env";
import type { ErrorCode } from "../lib/errors";
import { ApiError } from "../lib/errors";
import { effectiveLimits, type Limits, type PartialLimits } from "../lib/limits";
import { costMicroUsd, priceTable, type TokenUsage } from "../lib/models";
import { loadAgent } from "../routes/agents/load";
import { loadConversation } from "../routes/conversations/load";
import { providerFor } from "./provider";
import { BUILTIN_TOOLS, executeTool, type ToolOutcome, toolDefinition } from "./tools/registry";
import type { AgentTool } from "./tools/types";

export interface RunInput {
  agentId: string;
  /** The user's message that starts the run. */
  message: string;
  /** Continue this conversation (it must be with the same agent); omit to start one. */
  conversationId?: string | undefined;
  /** The principal starting the run, recorded as the new conversation's `created_by`. */
  createdBy?: string | null;
  /** Extra headers for every model call (the local model server's `x-model-scenario`). */
  providerHeaders?: Record<string, string>;
}

export interface RunFailure {
  code: ErrorCode;
  detail: string;
}

export interface RunResult {
  run: AgentRun;
  conversationId: string;
  /** The text of the last assistant message; empty when the run produced none. */
  output: string;
  /** Messages the run added, in sequence order (the user's message first). */
  messages: Message[];
  /** Set when the provider failed after the run started (the run is then `failed`). */
  error: RunFailure | null;
}

type ContentBlock = Record<string, unknown>;

/**
 * Executes an agent synchronously inside the request's tenant transaction: one user message,
 * then model calls and tool rounds until the model stops, the run reaches
 * `maxToolIterations` tool rounds, or `maxExecutionSeconds` of wall time has passed. Every
 * message, tool execution and the run's totals are stored as it goes.
 *
 * A provider failure after the run has started does not throw: it finishes the run as
 * `failed` with stop reason `error` and returns, so the caller can answer 2xx and keep the
 * record (an error response would roll the whole transaction back).
 *
 * @throws ApiError NOT_FOUND for an unknown agent or conversation, UNPROCESSABLE for a
 *   conversation with another agent, BAD_ENVIRONMENT when no provider key is configured.
 * @example
 * const result = await runAgent(db, config, { agentId, message: "What is 2 + 3?" });
 */
export async function runAgent(db: TenantDb, config: Config, input: RunInput): Promise<RunResult> {
  const startedAt = Date.now();
  const provider = providerFor(config);
  const agent = await loadAgent(db, input.agentId);
  const limits = await limitsFor(db, agent);
  const tools = agentTools(agent);

  const { conversationId, history, nextSequence } = await openConversation(db, agent, input);
  let sequence = nextSequence;

  const [run] = await db
    .insert(agentRuns)
    .values({
      tenantId: db.tenantId,
      agentId: agent.id,
      agentVersion: agent.currentVersion,
      conversationId,
      status: "running",
      model: agent.model,
      startedAt: new Date(startedAt),
    })
    .returning();
  if (!run) throw new Error("agent_runs insert returned no row");

  const added: Message[] = [];
  const append = async (
    role: Message["role"],
    content: ContentBlock[],
    extra: Partial<Pick<Message, "model" | "inputTokens" | "outputTokens">> = {},
  ): Promise<Message> => {
    const [row] = await db
      .insert(messages)
      .values({
        tenantId: db.tenantId,
        conversationId,
        sequence: sequence++,
        role,
        content,
        runId: run.id,
        ...extra,
      })
      .returning();
    if (!row) throw new Error("messages insert returned no row");
    added.push(row);
    return row;
  };

  await append("user", [{ type: "text", text: input.message }]);
  const transcript = toParams([...history, ...added]);

  const price = priceTable(config.MODEL_PRICES)[agent.model];
  const totals: TokenUsage = {
    inputTokens: 0,
    outputTokens: 0,
    cacheCreationInputTokens: 0,
    cacheReadInputTokens: 0,
  };
  let cost = 0;
  let modelCalls = 0;
  let toolCalls = 0;
  let toolRounds = 0;
  let output = "";
  let stopReason: string | null = null;
  let failure: RunFailure | null = null;
  const deadline = startedAt + limits.maxExecutionSeconds * 1000;

  while (stopReason === null) {
    const remainingMs = deadline - Date.now();
    if (remainingMs <= 0) {
      stopReason = "max_execution_time";
      break;
    }
    let response: Anthropic.Message;
    try {
      response = await provider.messages.create(
        {
          model: agent.model,
          system: agent.systemPrompt ?? undefined,
          max_tokens: limits.maxTokens,
          ...(tools.size > 0 ? { tools: [...tools.values()].map(toolDefinition) } : {}),
          messages: transcript,
        },
        { timeout: remainingMs, ...(input.providerHeaders ? { headers: input.providerHeaders } : {}) },
      );
    } catch (error) {
      if (error instanceof Anthropic.APIConnectionTimeoutError) {
        stopReason = "max_execution_time";
        break;
      }
      if (!(error instanceof Anthropic.APIError)) throw error;
      failure = providerFailure(error);
      stopReason = "error";
      break;
    }
    modelCalls++;
    const usage: TokenUsage = {
      inputTokens: response.usage.input_tokens,
      outputTokens: response.usage.output_tokens,
      cacheCreationInputTokens: response.usage.cache_creation_input_tokens ?? 0,
      cacheReadInputTokens: response.usage.cache_read_input_tokens ?? 0,
    };
    totals.inputTokens += usage.inputTokens;
    totals.outputTokens += usage.outputTokens;
    totals.cacheCreationInputTokens += usage.cacheCreationInputTokens;
    totals.cacheReadInputTokens += usage.cacheReadInputTokens;
    if (price) cost += costMicroUsd(price, usage);

    const content = response.content.map(toBlockParam);
    const assistant = await append("assistant", content, {
      model: response.model,
      inputTokens: usage.inputTokens,
      outputTokens: usage.outputTokens,
    });
    transcript.push({ role: "assistant", content: content as unknown as Anthropic.ContentBlockParam[] });
    output = textOf(response.content);

    const calls = response.content.filter((b): b is Anthropic.ToolUseBlock => b.type === "tool_use");
    if (response.stop_reason !== "tool_use" || calls.length === 0) {
      stopReason = response.stop_reason ?? "end_turn";
      break;
    }

    const signal = AbortSignal.timeout(Math.max(1, deadline - Date.now()));
    const results: ContentBlock[] = [];
    for (const call of calls) {
      const started = new Date();
      const tool = tools.get(call.name);
      const outcome: ToolOutcome = tool
        ? await executeTool(tool, call.input, {
            tenantId: db.tenantId,
            signal,
            maxOutputBytes: limits.maxToolOutputBytes,
          })
        : {
            status: "failed",
            content: JSON.stringify({ error: `unknown tool: ${call.name}` }),
            truncated: false,
            durationMs: 0,
          };
      toolCalls++;
      await db.insert(toolExecutions).values({
        tenantId: db.tenantId,
        conversationId,
        messageId: assistant.id,
        toolUseId: call.id,
        toolName: call.name,
        input: call.input,
        output: outcome.status === "succeeded" ? parseJson(outcome.content) : null,
        error: outcome.status === "failed" ? outcome.content : null,
        status: outcome.status,
        durationMs: outcome.durationMs,
        startedAt: started,
        finishedAt: new Date(),
      });
      results.push({
        type: "tool_result",
        tool_use_id: call.id,
        content: outcome.content,
        ...(outcome.status === "failed" ? { is_error: true } : {}),
      });
    }
    // Stored as role `tool`; the model API receives it as a user turn (see toParams).
    await append("tool", results);
    transcript.push({ role: "user", content: results as unknown as Anthropic.ContentBlockParam[] });
    toolRounds++;
    if (toolRounds >= limits.maxToolIterations) stopReason = "max_tool_iterations";
  }

  const [finished] = await db
    .update(agentRuns)
    .set({
      status: failure ? "failed" : "succeeded",
      stopReason,
      error: failure ? `${failure.code}: ${failure.detail}` : null,
      inputTokens: totals.inputTokens,
      outputTokens: totals.outputTokens,
      cacheCreationInputTokens: totals.cacheCreationInputTokens,
      cacheReadInputTokens: totals.cacheReadInputTokens,
      costMicroUsd: cost,
      modelCalls,
      toolCalls,
      finishedAt: new Date(),
    })
    .where(and(eq(agentRuns.tenantId, db.tenantId), eq(agentRuns.id, run.id)))
    .returning();
  if (!finished) throw new Error("agent_runs update returned no row");
  return { run: finished, conversationId, output, messages: added, error: failure };
}

/** The agent's limits: its own overrides, then the tenant's defaults, capped by the tenant's ceiling. */
async function limitsFor(db: TenantDb, agent: Agent): Promise<Limits> {
  const [tenant] = await db
    .select({ settings: tenants.settings, limits: tenants.limits })
    .from(tenants)
    .where(eq(tenants.id, db.tenantId));
  return effectiveLimits({
    ceiling: tenant?.limits as PartialLimits | undefined,
    defaults: tenant?.settings.defaultLimits as PartialLimits | undefined,
    agent: agent.resourceLimits as PartialLimits,
  });
}

/** The agent's tools this runtime can run: built-in ones for now (MCP, knowledge bases later). */
function agentTools(agent: Agent): Map<string, AgentTool> {
  const out = new Map<string, AgentTool>();
  for (const entry of agent.tools as { name?: unknown; type?: unknown }[]) {
    if (entry?.type !== "builtin" || typeof entry.name !== "string") continue;
    const tool = BUILTIN_TOOLS.get(entry.name);
    if (tool) out.set(tool.name, tool);
  }
  return out;
}

/**
 * The conversation to run in: a new one, or the caller's, locked for the run so two runs
 * cannot interleave their messages, with its messages in sequence order.
 */
async function openConversation(
  db: TenantDb,
  agent: Agent,
  input: RunInput,
): Promise<{ conversationId: string; history: Message[]; nextSequence: number }> {
  if (!input.conversationId) {
    const [created] = await db
      .insert(conversations)
      .values({
        tenantId: db.tenantId,
        agentId: agent.id,
        title: input.message.replace(/\s+/g, " ").trim().slice(0, 80) || null,
        createdBy: input.createdBy ?? null,
      })
      .returning();
    if (!created) throw new Error("conversations insert returned no row");
    return { conversationId: created.id, history: [], nextSequence: 1 };
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
  const history = await db
    .select()
    .from(messages)
    .where(and(eq(messages.tenantId, db.tenantId), eq(messages.conversationId, conversation.id)))
    .orderBy(asc(messages.sequence));
  const last = history.at(-1);
  return { conversationId: conversation.id, history, nextSequence: (last?.sequence ?? 0) + 1 };
}

/**
 * Stored messages as the Messages API takes them: `tool` messages are user turns, and
 * consecutive turns of one role are merged (a run stopped after a tool round ends on a user
 * turn, and the next run starts with another).
 */
function toParams(rows: Message[]): Anthropic.MessageParam[] {
  const out: Anthropic.MessageParam[] = [];
  for (const row of rows) {
    const role = row.role === "assistant" ? "assistant" : "user";
    const content = row.content as Anthropic.ContentBlockParam[];
    const previous = out.at(-1);
    if (previous && previous.role === role) {
      const before = previous.content as Anthropic.ContentBlockParam[];
      // tool_result blocks must lead a user turn.
      previous.content =
        role === "user"
          ? [
              ...before.filter((b) => b.type === "tool_result"),
              ...content.filter((b) => b.type === "tool_result"),
              ...before.filter((b) => b.type !== "tool_result"),
              ...content.filter((b) => b.type !== "tool_result"),
            ]
          : [...before, ...content];
    } else {
      out.push({ role, content: [...content] });
    }
  }
  return out;
}

/** A response block as a request block: only the fields the API accepts back. */
function toBlockParam(block: Anthropic.ContentBlock): ContentBlock {
  switch (block.type) {
    case "text":
      return { type: "text", text: block.text };
    case "tool_use":
      return { type: "tool_use", id: block.id, name: block.name, input: block.input };
    case "thinking":
      return { type: "thinking", thinking: block.thinking, signature: block.signature };
    case "redacted_thinking":
      return { type: "redacted_thinking", data: block.data };
    default:
      return { ...block } as ContentBlock;
  }
}

function textOf(content: Anthropic.ContentBlock[]): string {
  return content
    .flatMap((b) => (b.type === "text" ? [b.text] : []))
    .join("\n")
    .trim();
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * How a provider error is reported: overload (529) is UNAVAILABLE, other throttling and server
 * errors BAD_GATEWAY, and a 400 (the request the agent's definition produced was rejected)
 * UNPROCESSABLE.
 */
export function providerFailure(error: InstanceType<typeof Anthropic.APIError>): RunFailure {
  const status = error.status;
  const code: ErrorCode = status === 529 ? "UNAVAILABLE" : status === 400 ? "UNPROCESSABLE" : "BAD_GATEWAY";
  const detail =
    status === undefined
      ? `The model provider could not be reached: ${error.message}`
      : `The model provider answered ${status}: ${error.message}`;
  return { code, detail: detail.slice(0, 1000) };
}
