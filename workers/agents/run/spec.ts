import type Anthropic from "@anthropic-ai/sdk";
import type { AgentRun, Message } from "../../../db/types";
import type { Principal } from "../../auth/principal";
import type { Role } from "../../auth/roles";
import type { ErrorCode } from "../../lib/errors";
import type { Limits } from "../../lib/limits";
import type { Price } from "../../lib/models";
import type { Budget } from "../../quotas/budget";
import type { HeldAhead } from "./hold";

/** A tool as the agent declares it; the engine resolves the implementation by name. */
export interface RunTool {
  name: string;
  type: "builtin" | "mcp" | "knowledge_base" | "agent";
  requiresApproval: boolean;
  description?: string;
  /**
   * Tool-specific settings: for `mcp`, `{ server, tool? }`; for `knowledge_base`,
   * `{ collectionIds, topK?, mode? }`; for `agent`, `{ agentId, agentVersion? }`.
   */
  config?: Record<string, unknown>;
}

/** Who started the run: its tools act with this role, whatever the model asks. */
export interface RunActor {
  kind: "user" | "api_key" | "platform_admin";
  /** The user or API key id; null for the platform admin. */
  id: string;
  role: Role;
}

/**
 * Everything a run needs, prepared in the request's transaction and handed to the run's
 * Durable Object, so the first model call starts without another database read. Plain JSON
 * (it crosses the RPC boundary and is kept in the object's storage).
 */
export interface RunSpec {
  tenantId: string;
  runId: string;
  agentId: string;
  agentVersion: number;
  conversationId: string;
  mode: AgentRun["mode"];
  model: string;
  systemPrompt: string | null;
  tools: RunTool[];
  actor: RunActor;
  limits: Limits;
  price: Price | null;
  /** The tenant's monthly budgets, when it has any: each model call then holds its share first. */
  budget: Budget | null;
  /**
   * The first model call's hold, taken with the run's rows (see prepareRun): absent when the
   * tenant has no budgets, and for a run whose spec was built later (an async run's).
   */
  firstHold?: HeldAhead | undefined;
  contextWindow: number;
  minCacheableTokens: number;
  /** The conversation so far as the Messages API takes it, ending with the new user turn. */
  transcript: Anthropic.MessageParam[];
  /** The sequence number the run's first stored message (after the user's) takes. */
  nextSequence: number;
  startedAt: number;
  /** Extra headers for every model call (the local model server's `x-model-scenario`). */
  providerHeaders: Record<string, string>;
  approvalTtlSeconds: number;
  /**
   * How many agents handed work down to reach this run: 0 for a run a caller started, 1 for a
   * run an `agent` tool (or the meridian MCP server's `run_agent`) started from one, and so on.
   * Fixed when the run is prepared, so nothing the model says can reset it.
   */
  delegationDepth: number;
  /** W3C trace context of whatever prepared the run: the run's spans join that trace. */
  traceparent?: string | undefined;
}

/**
 * The deepest a chain of delegating agents may go (supervisor -> worker -> worker -> worker):
 * a run at this depth that asks another agent gets an error result instead of a run.
 */
export const MAX_DELEGATION_DEPTH = 3;

export interface RunFailure {
  code: ErrorCode;
  detail: string;
}

/** How a run ended, as the object reports it to whoever waits. */
export interface RunOutcome {
  run: AgentRun;
  output: string;
  /** Messages the run added after the user's, in sequence order. */
  messages: Message[];
  error: RunFailure | null;
}

/** What the run's object reports to whoever waits for it; the full record is in PostgreSQL. */
export interface RunSummary {
  runId: string;
  status: AgentRun["status"];
  stopReason: string | null;
  output: string;
  error: RunFailure | null;
}

export function summarize(outcome: RunOutcome): RunSummary {
  return {
    runId: outcome.run.id,
    status: outcome.run.status,
    stopReason: outcome.run.stopReason,
    output: outcome.output,
    error: outcome.error,
  };
}

/** The caller as the run remembers it: its tools act with the caller's role at the start. */
export function runActor(caller: Principal): RunActor {
  switch (caller.kind) {
    case "user":
      return { kind: "user", id: caller.userId, role: caller.role };
    case "api_key":
      return { kind: "api_key", id: caller.keyId, role: caller.role };
    case "platform_admin":
      return { kind: "platform_admin", id: "", role: "owner" };
  }
}

/** The principal a run's (or a workflow's) tool calls act as: its starter, with the role they had. */
export function actorPrincipal(tenantId: string, actor: RunActor): Principal {
  if (actor.kind === "user") {
    return {
      kind: "user",
      tenantId,
      userId: actor.id,
      role: actor.role,
      sessionId: "",
      jti: "",
      expiresAt: 0,
    };
  }
  if (actor.kind === "api_key") return { kind: "api_key", tenantId, keyId: actor.id, role: actor.role };
  return { kind: "platform_admin" };
}
