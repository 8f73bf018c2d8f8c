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

export interface JournalledEvent {
  seq: number;
  event: RunEvent;
}

const encoder = new TextEncoder();

/** One SSE frame. The event name is the type; the data is the whole event as JSON. */
export function sseFrame({ seq, event }: JournalledEvent): Uint8Array {
  return encoder.encode(`id: ${seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
}

/** A comment line: keeps proxies from closing an idle stream and reveals a gone client. */
export const SSE_HEARTBEAT = encoder.encode(": keep-alive\n\n");
