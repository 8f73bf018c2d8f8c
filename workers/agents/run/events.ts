import type { JournalledEvent as Journalled } from "../../lib/sse";

/**
 * The events a run publishes, in order, on its stream (`text/event-stream`, one SSE event per
 * entry, `id` = `seq`). docs/agents.md documents each for clients.
 */
export type RunEvent =
  | { type: "run_started"; runId: string; conversationId: string; agentId: string; model: string }
  | { type: "message_started"; call: number }
  | { type: "text_delta"; call: number; text: string }
  | { type: "model_retry"; call: number; attempt: number; delayMs: number; status: number | null }
  | { type: "tool_call_started"; toolUseId: string; name: string; input: unknown }
  | {
      type: "tool_call_finished";
      toolUseId: string;
      name: string;
      status: "succeeded" | "failed" | "denied" | "cancelled";
      durationMs: number;
      truncated: boolean;
    }
  | { type: "approval_pending"; toolUseId: string; name: string; input: unknown; expiresAt: string }
  | { type: "approval_resolved"; toolUseId: string; decision: "approved" | "denied"; reason: string | null }
  | {
      type: "usage";
      call: number;
      inputTokens: number;
      outputTokens: number;
      cacheCreationInputTokens: number;
      cacheReadInputTokens: number;
      costMicroUsd: number;
    }
  | { type: "error"; code: string; detail: string }
  | { type: "done"; status: string; stopReason: string | null; output: string };

export type RunEventType = RunEvent["type"];

export type JournalledEvent = Journalled<RunEvent>;
