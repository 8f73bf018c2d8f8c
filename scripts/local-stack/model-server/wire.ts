import { randomBytes } from "node:crypto";

/**
 * The Anthropic Messages API wire shapes the model server produces, matched to the types of
 * `@anthropic-ai/sdk` 1.14 (`Message`, `Usage`, `RawMessageStreamEvent`, the error body).
 */

export type ErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "permission_error"
  | "not_found_error"
  | "request_too_large"
  | "rate_limit_error"
  | "api_error"
  | "overloaded_error";

export type StopReason =
  | "end_turn"
  | "max_tokens"
  | "stop_sequence"
  | "tool_use"
  | "pause_turn"
  | "refusal"
  | "model_context_window_exceeded";

/** A response content block as a script gives it; ids and empty fields are filled in. */
export type ScriptBlock =
  | { type: "text"; text: string; citations?: Record<string, unknown>[] | null }
  | { type: "tool_use"; name: string; input: unknown; id?: string }
  | { type: "thinking"; thinking: string; signature?: string };

export type OutBlock =
  | { type: "text"; text: string; citations: Record<string, unknown>[] | null }
  | { type: "tool_use"; id: string; name: string; input: unknown; caller: { type: "direct" } }
  | { type: "thinking"; thinking: string; signature: string };

export interface Usage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  cache_creation: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number };
  server_tool_use: null;
  output_tokens_details: null;
  inference_geo: null;
  service_tier: "standard";
  speed: null;
}

export interface Message {
  id: string;
  type: "message";
  role: "assistant";
  model: string;
  content: OutBlock[];
  stop_reason: StopReason | null;
  stop_sequence: string | null;
  stop_details: null;
  container: null;
  diagnostics: null;
  usage: Usage;
}

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/** An id in the API's style: a prefix and 24 base62 characters (`msg_…`, `toolu_…`, `req_…`). */
export function newWireId(prefix: string): string {
  return `${prefix}_${[...randomBytes(24)].map((b) => BASE62[b % 62]).join("")}`;
}

/** The API's rough count: about four characters a token, never zero. */
export const tokens = (chars: number): number => Math.max(1, Math.ceil(chars / 4));

export function outBlock(block: ScriptBlock): OutBlock {
  switch (block.type) {
    case "text":
      return { type: "text", text: block.text, citations: block.citations ?? null };
    case "tool_use":
      return {
        type: "tool_use",
        id: block.id ?? newWireId("toolu"),
        name: block.name,
        input: block.input,
        caller: { type: "direct" },
      };
    case "thinking":
      return { type: "thinking", thinking: block.thinking, signature: block.signature ?? newWireId("sig") };
  }
}

export function outputChars(content: OutBlock[]): number {
  return content.reduce(
    (sum, b) =>
      sum +
      (b.type === "text"
        ? b.text.length
        : b.type === "thinking"
          ? b.thinking.length
          : JSON.stringify(b.input).length),
    0,
  );
}

/** The error body every non-2xx answer carries, and the `error` SSE event's data. */
export function errorBody(type: ErrorType | string, message: string, requestId: string) {
  return { type: "error", error: { type, message }, request_id: requestId };
}

/** Splits text into `parts` roughly equal chunks (at least one, never empty ones). */
export function chunks(text: string, parts = 4): string[] {
  if (text.length === 0) return [];
  const size = Math.max(1, Math.ceil(text.length / parts));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/**
 * The SSE events of one streamed message, in the API's order: message_start, then per block
 * content_block_start, deltas, content_block_stop (a `ping` after the first start), then
 * message_delta (stop_reason and cumulative usage) and message_stop. Text comes as several
 * text_delta chunks, tool input as several input_json_delta chunks after an empty one, and a
 * cited text block's citations as citations_delta events before its text.
 */
export function streamEvents(message: Message): { event: string; data: unknown }[] {
  const events: { event: string; data: unknown }[] = [];
  const push = (data: { type: string } & Record<string, unknown>) => events.push({ event: data.type, data });
  push({
    type: "message_start",
    message: {
      ...message,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { ...message.usage, output_tokens: Math.min(1, message.usage.output_tokens) },
    },
  });
  message.content.forEach((block, index) => {
    const delta = (d: Record<string, unknown>) => push({ type: "content_block_delta", index, delta: d });
    if (block.type === "text") {
      push({
        type: "content_block_start",
        index,
        content_block: block.citations
          ? { type: "text", text: "", citations: [] }
          : { type: "text", text: "" },
      });
      if (index === 0) push({ type: "ping" });
      for (const citation of block.citations ?? []) delta({ type: "citations_delta", citation });
      for (const text of chunks(block.text)) delta({ type: "text_delta", text });
    } else if (block.type === "tool_use") {
      push({ type: "content_block_start", index, content_block: { ...block, input: {} } });
      if (index === 0) push({ type: "ping" });
      delta({ type: "input_json_delta", partial_json: "" });
      for (const partial_json of chunks(JSON.stringify(block.input))) {
        delta({ type: "input_json_delta", partial_json });
      }
    } else {
      push({
        type: "content_block_start",
        index,
        content_block: { type: "thinking", thinking: "", signature: "" },
      });
      if (index === 0) push({ type: "ping" });
      for (const thinking of chunks(block.thinking)) delta({ type: "thinking_delta", thinking });
      delta({ type: "signature_delta", signature: block.signature });
    }
    push({ type: "content_block_stop", index });
  });
  const { usage } = message;
  push({
    type: "message_delta",
    delta: {
      stop_reason: message.stop_reason,
      stop_sequence: message.stop_sequence,
      stop_details: null,
      container: null,
    },
    usage: {
      input_tokens: usage.input_tokens,
      output_tokens: usage.output_tokens,
      cache_creation_input_tokens: usage.cache_creation_input_tokens,
      cache_read_input_tokens: usage.cache_read_input_tokens,
      server_tool_use: null,
      output_tokens_details: null,
    },
  });
  push({ type: "message_stop" });
  return events;
}
