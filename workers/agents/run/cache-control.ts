import type Anthropic from "@anthropic-ai/sdk";
import { estimateTokens } from "./context";

/** The API's limit on `cache_control` across tools, system blocks and message blocks together. */
export const MAX_CACHE_BREAKPOINTS = 4;

const EPHEMERAL: Anthropic.CacheControlEphemeral = { type: "ephemeral" };

export interface CachePlacementInput {
  system?: string | undefined;
  tools: Anthropic.Tool[];
  messages: Anthropic.MessageParam[];
  /** The model's minimum cacheable prompt (`ModelSpec.minCacheableTokens`). */
  minCacheableTokens: number;
}

export interface CachePlacement {
  /** A single text block carrying the breakpoint when the system prompt got one, else as given. */
  system?: Anthropic.TextBlockParam[] | string | undefined;
  tools: Anthropic.Tool[];
  messages: Anthropic.MessageParam[];
  /** How many `cache_control` markers the request now carries (never more than 4). */
  breakpoints: number;
}

type Block = Anthropic.ContentBlockParam;

/** A copy of `value` without its `cache_control`, or `value` itself when it has none. */
function withoutCacheControl<T extends object>(value: T): T {
  if (!("cache_control" in value)) return value;
  const { cache_control: _stale, ...rest } = value as T & { cache_control?: unknown };
  return rest as T;
}

/** A block without `cache_control`, looking inside a tool_result's content too (its blocks count). */
function stripBlock(block: Block): Block {
  const bare = withoutCacheControl(block);
  if (bare.type !== "tool_result" || !Array.isArray(bare.content)) return bare;
  return { ...bare, content: bare.content.map((inner) => withoutCacheControl(inner)) };
}

/** A message without breakpoints (a mid-conversation system message holds text blocks only). */
function stripMessage(message: Anthropic.MessageParam): Anthropic.MessageParam {
  if (typeof message.content === "string") return message;
  if (message.role === "system") {
    return { role: "system", content: message.content.map((block) => withoutCacheControl(block)) };
  }
  return { role: message.role, content: message.content.map(stripBlock) };
}

/**
 * Whether a block may carry a breakpoint: thinking blocks cannot (the API rejects it), and a
 * blank text block is itself rejected, so marking it would only hide the problem.
 */
function canCarry(block: Block): boolean {
  if (block.type === "thinking" || block.type === "redacted_thinking") return false;
  return !(block.type === "text" && block.text.trim() === "");
}

/**
 * The message with a breakpoint on its last block that can carry one (string content becomes a
 * text block), and the estimate of the message up to and including that block; undefined when
 * no block can carry one.
 */
function markLastBlock(
  message: Anthropic.UserMessageParam,
): { message: Anthropic.UserMessageParam; tokensThroughMark: number } | undefined {
  const blocks: Block[] =
    typeof message.content === "string"
      ? message.content === ""
        ? []
        : [{ type: "text", text: message.content }]
      : message.content;
  const at = blocks.findLastIndex(canCarry);
  if (at < 0) return undefined;
  const marked = blocks.map((block, i) => (i === at ? { ...block, cache_control: EPHEMERAL } : block));
  return {
    message: { role: "user", content: marked },
    tokensThroughMark: estimateTokens({ role: message.role, content: blocks.slice(0, at + 1) }),
  };
}

/**
 * Places prompt-cache breakpoints on a request so repeated prefixes are read from the cache
 * (0.1x input price or less) instead of processed again. The cache is a prefix in the order
 * tools → system → messages, a breakpoint caches the prefix up to and including its block, and
 * a prefix shorter than the model's minimum is silently not cached; the API takes at most 4
 * breakpoints and answers 400 to a fifth. So, each only when its prefix reaches
 * `minCacheableTokens` by `estimateTokens`' count:
 *
 * 1. the last tool (tool definitions change least often);
 * 2. the system prompt, sent as one text block;
 * 3. the last block of the previous user turn: where the previous call of the tool loop (or the
 *    previous run) put its last breakpoint, so this call finds that entry exactly even when the
 *    turns since hold more blocks than the API looks back over (about 20);
 * 4. the last block of the newest user turn, so the next call in the tool loop and the next run
 *    read the conversation so far from the cache.
 *
 * Breakpoints already on tools or messages (left by an earlier call on turns now old) are removed
 * first, so they never pile up past 4. Thinking blocks and empty text blocks never get one.
 *
 * Returns new objects and never modifies the input.
 *
 * @example
 * const placed = placeCacheBreakpoints({ system, tools, messages, minCacheableTokens: spec.minCacheableTokens });
 * await provider.messages.create({ model, max_tokens, system: placed.system, tools: placed.tools, messages: placed.messages });
 */
export function placeCacheBreakpoints(input: CachePlacementInput): CachePlacement {
  const min = input.minCacheableTokens;
  let breakpoints = 0;

  const tools = input.tools.map((tool) => withoutCacheControl(tool));
  const toolTokens = tools.length > 0 ? estimateTokens(tools) : 0;
  const lastTool = tools.at(-1);
  if (lastTool && toolTokens >= min) {
    tools[tools.length - 1] = { ...lastTool, cache_control: EPHEMERAL };
    breakpoints++;
  }

  let system: CachePlacement["system"] = input.system;
  const systemTokens = input.system ? estimateTokens(input.system) : 0;
  if (input.system && toolTokens + systemTokens >= min) {
    system = [{ type: "text", text: input.system, cache_control: EPHEMERAL }];
    breakpoints++;
  }

  const messages = input.messages.map(stripMessage);
  const sizes = messages.map((message) => estimateTokens(message));
  const userTurns = messages.flatMap((m, i) => (m.role === "user" ? [i] : []));
  let before = toolTokens + systemTokens;
  let next = 0;
  for (const index of userTurns.slice(-2)) {
    for (; next < index; next++) before += sizes[next] ?? 0;
    const marked = markLastBlock(messages[index] as Anthropic.UserMessageParam);
    if (marked && before + marked.tokensThroughMark >= min && breakpoints < MAX_CACHE_BREAKPOINTS) {
      messages[index] = marked.message;
      breakpoints++;
    }
  }
  return { system, tools, messages, breakpoints };
}
