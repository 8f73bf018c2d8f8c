import type Anthropic from "@anthropic-ai/sdk";
import type { Message } from "../../../db/types";

export type ContentBlock = Record<string, unknown>;

/**
 * Stored messages as the Messages API takes them: `tool` messages are user turns, and
 * consecutive turns of one role are merged (a run stopped after a tool round ends on a user
 * turn, and the next run starts with another).
 */
export function toParams(rows: Pick<Message, "role" | "content">[]): Anthropic.MessageParam[] {
  const out: Anthropic.MessageParam[] = [];
  for (const row of rows) appendTurn(out, row.role === "assistant" ? "assistant" : "user", row.content);
  answerDanglingToolUses(out);
  return out;
}

/**
 * The provider rejects a tool_use whose tool_result is not in the next turn. Runs answer the
 * calls they do not make, but a conversation stored before that (or cut short by a crash) can
 * still hold one: it gets an error result, so the conversation stays usable.
 */
function answerDanglingToolUses(turns: Anthropic.MessageParam[]): void {
  for (let i = 0; i < turns.length; i++) {
    const turn = turns[i] as Anthropic.MessageParam;
    if (turn.role !== "assistant" || typeof turn.content === "string") continue;
    const ids = turn.content.flatMap((b) => (b.type === "tool_use" ? [b.id] : []));
    if (ids.length === 0) continue;
    const next = turns[i + 1];
    const nextBlocks = next && typeof next.content !== "string" ? next.content : [];
    const answered = new Set(nextBlocks.flatMap((b) => (b.type === "tool_result" ? [b.tool_use_id] : [])));
    const missing = ids
      .filter((id) => !answered.has(id))
      .map((id) => ({
        type: "tool_result" as const,
        tool_use_id: id,
        content: JSON.stringify({ error: "this call was never run" }),
        is_error: true,
      }));
    if (missing.length === 0) continue;
    if (next?.role === "user") next.content = [...missing, ...nextBlocks];
    else turns.splice(i + 1, 0, { role: "user", content: missing });
  }
}

/** Adds a turn, merging it into the previous one when both have the same role. */
export function appendTurn(out: Anthropic.MessageParam[], role: "user" | "assistant", blocks: unknown): void {
  const content = blocks as Anthropic.ContentBlockParam[];
  const previous = out.at(-1);
  if (!previous || previous.role !== role) {
    out.push({ role, content: [...content] });
    return;
  }
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
}

/** A response block as a request block: only the fields the API accepts back. */
export function toBlockParam(block: Anthropic.ContentBlock): ContentBlock {
  switch (block.type) {
    case "text":
      // Citations are kept (stored with the message, sent back in later turns); the response's
      // `file_id` is not a request field, so it is dropped.
      return block.citations?.length
        ? {
            type: "text",
            text: block.text,
            citations: block.citations.map((citation) => {
              const { file_id: _fileId, ...param } = citation as Anthropic.TextCitation & {
                file_id?: unknown;
              };
              return param as Anthropic.TextCitationParam;
            }),
          }
        : { type: "text", text: block.text };
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

export function textOf(content: Anthropic.ContentBlock[]): string {
  return content
    .flatMap((b) => (b.type === "text" ? [b.text] : []))
    .join("\n")
    .trim();
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The text of a stored message's content blocks, as a run's `output` reports it. */
export function storedText(content: unknown): string {
  return (content as { type: string; text?: string }[])
    .flatMap((b) => (b.type === "text" && b.text ? [b.text] : []))
    .join("\n")
    .trim();
}
