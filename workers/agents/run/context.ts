import type Anthropic from "@anthropic-ai/sdk";

/**
 * Characters per token the estimate assumes. English prose runs about 4 characters a token on
 * the older tokenizer, and the tokenizer of Claude Opus 4.7 and later counts up to ~35% more
 * tokens for the same text (about 3 characters a token); code and non-English text run denser
 * still. Counting 3 characters of the JSON (whose quotes, keys and escapes add characters, not
 * tokens) errs toward too many tokens: dropping one turn too many costs a little memory, one too
 * few costs the whole call (a 400 from the provider).
 */
const CHARS_PER_TOKEN = 3;

/** Share of the window kept free, for the estimate's error and the provider's framing tokens. */
export const CONTEXT_SAFETY_MARGIN = 0.05;

/**
 * A cheap, conservative token count for any part of a request (system, tools, a message, a
 * block): its length (a string's own, anything else's JSON) over `CHARS_PER_TOKEN`, rounded up.
 * No network: the run engine calls this before every model call, and `count_tokens` would
 * double the round trips.
 *
 * @example
 * estimateTokens("You are Meridian.") // 6 (17 characters)
 */
export function estimateTokens(value: unknown): number {
  if (value === undefined) return 0;
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}

/** The text that tells the model turns are missing; plain content, not an instruction. */
export const omittedNote = (dropped: number): string => `[Earlier conversation omitted: ${dropped} messages]`;

export interface FitInput {
  system?: string | undefined;
  tools: Anthropic.Tool[];
  messages: Anthropic.MessageParam[];
  contextWindow: number;
  maxOutputTokens: number;
}

export interface FitResult {
  messages: Anthropic.MessageParam[];
  /** How many of the input's oldest messages were left out (0 when everything fit). */
  droppedMessages: number;
  /** The estimate of system + tools + the returned messages (output not included). */
  estimatedInputTokens: number;
}

const hasBlock = (message: Anthropic.MessageParam, type: Anthropic.ContentBlockParam["type"]): boolean =>
  Array.isArray(message.content) && message.content.some((block) => block.type === type);

/**
 * The indexes the transcript may start at once everything before is dropped, oldest first,
 * without breaking the API's rules: a user turn that answers no tool_use (a tool_result turn
 * belongs with the assistant turn before it), or an assistant turn that makes tool calls, kept
 * with the results that answer it behind a user turn of its own carrying the note. The second
 * kind is what lets a tool round be kept without the question that led to it, and a long tool
 * loop shed its oldest rounds. An assistant turn of plain text is no start: the user turn after
 * it is a clean one, one message shorter.
 */
function cutPoints(messages: Anthropic.MessageParam[]): number[] {
  const newestUser = messages.findLastIndex((m) => m.role === "user");
  const cuts: number[] = [];
  for (let i = 1; i <= newestUser; i++) {
    const message = messages[i] as Anthropic.MessageParam;
    const clean = message.role === "user" && !hasBlock(message, "tool_result");
    const toolRound = message.role === "assistant" && hasBlock(message, "tool_use");
    if (clean || toolRound) cuts.push(i);
  }
  return cuts;
}

/**
 * The turn that opens the kept transcript, with the note in front: the first kept user turn with
 * the note as its first block, or a user turn of the note alone when an assistant turn comes first.
 * Returns whether it replaces the first kept message or goes before it.
 */
function openingTurn(
  first: Anthropic.MessageParam,
  dropped: number,
): { turn: Anthropic.MessageParam; replacesFirst: boolean } {
  const note: Anthropic.TextBlockParam = { type: "text", text: omittedNote(dropped) };
  if (first.role !== "user") return { turn: { role: "user", content: [note] }, replacesFirst: false };
  const blocks: Anthropic.ContentBlockParam[] =
    typeof first.content === "string"
      ? first.content === ""
        ? []
        : [{ type: "text", text: first.content }]
      : first.content;
  return { turn: { role: "user", content: [note, ...blocks] }, replacesFirst: true };
}

/**
 * Keeps a run's prompt inside the model's context window by dropping the oldest turns. The
 * request (system + tools + messages) plus `maxOutputTokens` must fit in the window less a 5%
 * safety margin, by `estimateTokens`' count. When it does not, the shortest drop that fits is
 * taken, and the rules of the Messages API still hold for what is kept: a tool_use and the
 * tool_results answering it stay together, the transcript starts with a user turn that answers
 * no dropped tool_use, roles alternate, and the newest user turn is always kept. What was dropped
 * is announced in a text block `[Earlier conversation omitted: N messages]` at the front of the
 * first kept user turn (a user turn of its own when what is kept opens on an assistant's tool
 * calls), so the model does not take the rest for the whole conversation.
 *
 * If even the newest turn (with the tool_use it answers, if any) does not fit, that shortest
 * transcript is returned anyway: the provider then answers 400 for a prompt that is too long,
 * and the caller reports that as the run's failure. Nothing here throws.
 *
 * Pure: no I/O, and the input is never modified (the opening turn is a new object when the note
 * is added; the other messages are the caller's, shared and untouched).
 *
 * @example
 * const fitted = fitToContext({ system, tools, messages, contextWindow: 200_000, maxOutputTokens: 8_192 });
 * if (fitted.droppedMessages > 0) logger.info("context trimmed", { dropped: fitted.droppedMessages });
 */
export function fitToContext(input: FitInput): FitResult {
  const { messages } = input;
  const fixed =
    estimateTokens(input.system || undefined) + (input.tools.length > 0 ? estimateTokens(input.tools) : 0);
  const budget =
    Math.floor(input.contextWindow * (1 - CONTEXT_SAFETY_MARGIN)) - input.maxOutputTokens - fixed;

  // suffix[i]: the estimate of messages[i..], so no candidate cut re-estimates what it keeps.
  const suffix = new Array<number>(messages.length + 1).fill(0);
  for (let i = messages.length - 1; i >= 0; i--) {
    suffix[i] = (suffix[i + 1] ?? 0) + estimateTokens(messages[i]);
  }
  const total = suffix[0] ?? 0;
  const whole = { messages: [...messages], droppedMessages: 0, estimatedInputTokens: fixed + total };
  if (total <= budget) return whole;

  const cuts = cutPoints(messages);
  if (cuts.length === 0) return whole; // nothing before the newest turn can go
  const keptFrom = (cut: number): FitResult => {
    const { turn, replacesFirst } = openingTurn(messages[cut] as Anthropic.MessageParam, cut);
    const rest = replacesFirst ? cut + 1 : cut;
    return {
      messages: [turn, ...messages.slice(rest)],
      droppedMessages: cut,
      estimatedInputTokens: fixed + estimateTokens(turn) + (suffix[rest] ?? 0),
    };
  };
  for (const cut of cuts) {
    const kept = keptFrom(cut);
    if (kept.estimatedInputTokens - fixed <= budget) return kept;
  }
  return keptFrom(cuts.at(-1) as number);
}
