import { env } from "cloudflare:workers";
import Anthropic from "@anthropic-ai/sdk";
import { describe, expect, it } from "vitest";
import { MODEL_CATALOG, PLATFORM_MODELS } from "../../lib/models";
import { MAX_CACHE_BREAKPOINTS, placeCacheBreakpoints } from "./cache-control";
import { estimateTokens } from "./context";

type Message = Anthropic.MessageParam;
type Block = Anthropic.ContentBlockParam;

const EPHEMERAL: Anthropic.CacheControlEphemeral = { type: "ephemeral" };

/** About `tokens` estimated tokens of text (the estimate counts 3 characters a token). */
const words = (tokens: number, tag = "x") => `${tag} `.repeat(Math.ceil((tokens * 3) / (tag.length + 1)));

const tool = (name: string, descriptionTokens: number): Anthropic.Tool => ({
  name,
  description: words(descriptionTokens, name),
  input_schema: { type: "object", properties: { expression: { type: "string" } }, required: ["expression"] },
});

/** A conversation with a finished tool round, ending with a new user question. */
const conversation = (): Message[] => [
  { role: "user", content: "What is 2 + 3?" },
  {
    role: "assistant",
    content: [
      { type: "thinking", thinking: "The user wants a sum.", signature: "sig" },
      { type: "text", text: "I'll use calculator." },
      { type: "tool_use", id: "toolu_1", name: "calculator", input: { expression: "2 + 3" } },
    ],
  },
  { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "5" }] },
  { role: "assistant", content: [{ type: "text", text: "The result is 5." }] },
  { role: "user", content: [{ type: "text", text: "And 4 * 6?" }] },
];

/** Every cache_control in a request, as the API counts them: tools, system blocks, message blocks. */
function markers(request: { system?: unknown; tools: Anthropic.Tool[]; messages: Message[] }): string[] {
  const found: string[] = [];
  request.tools.forEach((t, i) => {
    if (t.cache_control) found.push(`tools.${i}`);
  });
  if (Array.isArray(request.system)) {
    request.system.forEach((b: Anthropic.TextBlockParam, i) => {
      if (b.cache_control) found.push(`system.${i}`);
    });
  }
  request.messages.forEach((m, i) => {
    if (typeof m.content === "string") return;
    (m.content as Block[]).forEach((b, j) => {
      if ("cache_control" in b && b.cache_control) found.push(`messages.${i}.${j}`);
      if (b.type === "tool_result" && Array.isArray(b.content)) {
        b.content.forEach((inner, k) => {
          if ("cache_control" in inner && inner.cache_control) found.push(`messages.${i}.${j}.${k}`);
        });
      }
    });
  });
  return found;
}

describe("placeCacheBreakpoints", () => {
  it("marks the last tool, the system prompt, and the last block of the previous and newest user turns", () => {
    const tools = [tool("calculator", 600), tool("search", 600)];
    const placed = placeCacheBreakpoints({
      system: words(600, "system"),
      tools,
      messages: conversation(),
      minCacheableTokens: 1024,
    });

    expect(placed.breakpoints).toBe(4);
    expect(markers(placed)).toEqual(["tools.1", "system.0", "messages.2.0", "messages.4.0"]);
    expect(placed.tools[1]).toEqual({ ...tools[1], cache_control: EPHEMERAL });
    expect(placed.system).toEqual([{ type: "text", text: words(600, "system"), cache_control: EPHEMERAL }]);
  });

  it("places none where the prefix up to it is under the minimum (the provider would silently not cache it)", () => {
    const tools = [tool("calculator", 300)];
    const system = words(400, "system");
    const messages = conversation();
    const prefix = estimateTokens(tools) + estimateTokens(system);
    expect(prefix).toBeLessThan(1024);

    // Tools alone (~300) and tools + system (~700) are too short for 1024; the conversation on top is not.
    const placed = placeCacheBreakpoints({ system, tools, messages, minCacheableTokens: 1024 });
    expect(markers(placed)).toEqual([]);
    expect(placed.system).toBe(system);
    expect(placed.tools).toEqual(tools);

    const small = placeCacheBreakpoints({ system, tools, messages, minCacheableTokens: 512 });
    expect(markers(small)).toEqual(["system.0", "messages.2.0", "messages.4.0"]);
  });

  it.each(PLATFORM_MODELS.map((model) => [model, MODEL_CATALOG[model].minCacheableTokens] as const))(
    "uses %s's minimum of %i tokens: a breakpoint just past it, none just short of it",
    (_model, minimum) => {
      const longEnough = [tool("calculator", minimum)];
      expect(estimateTokens(longEnough)).toBeGreaterThanOrEqual(minimum);
      const tooShort = [tool("calculator", minimum - 120)];
      expect(estimateTokens(tooShort)).toBeLessThan(minimum);
      const messages: Message[] = [{ role: "user", content: "hi" }];

      const past = placeCacheBreakpoints({ tools: longEnough, messages, minCacheableTokens: minimum });
      expect(markers(past)).toEqual(["tools.0", "messages.0.0"]);
      const short = placeCacheBreakpoints({ tools: tooShort, messages, minCacheableTokens: minimum });
      expect(markers(short)).toEqual([]);
    },
  );

  it("removes breakpoints left on older turns and tools, so they never pile up past 4", () => {
    const stale: Message[] = conversation().map((m) =>
      typeof m.content === "string" || m.role !== "user"
        ? m
        : { ...m, content: m.content.map((b) => ({ ...b, cache_control: EPHEMERAL }) as Block) },
    );
    const nested: Message[] = [
      {
        role: "user",
        content: [{ type: "text", text: "start", cache_control: { type: "ephemeral", ttl: "1h" } }],
      },
      {
        role: "assistant",
        content: [
          { type: "tool_use", id: "toolu_0", name: "calculator", input: {}, cache_control: EPHEMERAL },
        ],
      },
      {
        role: "user",
        content: [
          {
            type: "tool_result",
            tool_use_id: "toolu_0",
            content: [{ type: "text", text: "0", cache_control: EPHEMERAL }],
          },
        ],
      },
      { role: "assistant", content: "ok" },
      ...stale,
    ];
    const tools = [
      { ...tool("calculator", 600), cache_control: EPHEMERAL },
      { ...tool("search", 600), cache_control: EPHEMERAL },
    ] as Anthropic.Tool[];
    expect(markers({ tools, messages: nested }).length).toBeGreaterThan(MAX_CACHE_BREAKPOINTS);

    const placed = placeCacheBreakpoints({
      system: words(600),
      tools,
      messages: nested,
      minCacheableTokens: 1024,
    });
    expect(markers(placed)).toEqual(["tools.1", "system.0", "messages.6.0", "messages.8.0"]);
    expect(placed.breakpoints).toBe(4);
  });

  it("never marks a thinking block or an empty text block: the last block that can carry one gets it", () => {
    const messages: Message[] = [
      {
        role: "user",
        content: [
          { type: "text", text: words(600) },
          { type: "text", text: "the question" },
          // Not what a user turn holds, but the rule is the block's, wherever it is.
          { type: "thinking", thinking: "hidden", signature: "sig" },
          { type: "redacted_thinking", data: "opaque" },
          { type: "text", text: "" },
          { type: "text", text: " \n" },
        ],
      },
    ];
    const placed = placeCacheBreakpoints({ tools: [], messages, minCacheableTokens: 100 });
    expect(markers(placed)).toEqual(["messages.0.1"]);

    const nothing: Message[] = [{ role: "user", content: [{ type: "text", text: "" }] }];
    expect(placeCacheBreakpoints({ tools: [], messages: nothing, minCacheableTokens: 0 }).breakpoints).toBe(
      0,
    );
    const assistantThinking = placeCacheBreakpoints({
      tools: [],
      messages: conversation(),
      minCacheableTokens: 0,
    });
    expect(markers(assistantThinking)).toEqual(["messages.2.0", "messages.4.0"]);
  });

  it("turns string content into a text block only where it places a breakpoint", () => {
    const messages: Message[] = [
      { role: "user", content: words(600, "first") },
      { role: "assistant", content: "sure" },
      { role: "user", content: "second" },
    ];
    const placed = placeCacheBreakpoints({ system: "short", tools: [], messages, minCacheableTokens: 500 });
    expect(placed.system).toBe("short");
    expect(placed.messages).toEqual([
      { role: "user", content: [{ type: "text", text: words(600, "first"), cache_control: EPHEMERAL }] },
      { role: "assistant", content: "sure" },
      { role: "user", content: [{ type: "text", text: "second", cache_control: EPHEMERAL }] },
    ]);
  });

  it("returns new objects and never modifies its input", () => {
    const tools = [{ ...tool("calculator", 600), cache_control: EPHEMERAL }] as Anthropic.Tool[];
    const messages = conversation();
    const stale = messages[2] as Anthropic.UserMessageParam;
    (stale.content as Block[])[0] = { ...(stale.content as Block[])[0], cache_control: EPHEMERAL } as Block;
    const before = structuredClone({ tools, messages });

    const placed = placeCacheBreakpoints({ system: words(600), tools, messages, minCacheableTokens: 100 });
    expect({ tools, messages }).toEqual(before);
    expect(placed.tools).not.toBe(tools);
    expect(placed.tools[0]).not.toBe(tools[0]);
    expect(placed.messages).not.toBe(messages);
    expect(placed.messages[4]).not.toBe(messages[4]);
    expect(placed.breakpoints).toBe(4);
  });
});

/** The local model server (or Anthropic itself), reached with the real SDK from inside workerd. */
function modelServer(): Anthropic {
  const bindings = env as unknown as Record<string, string | undefined>;
  return new Anthropic({
    apiKey: bindings.ANTHROPIC_API_KEY ?? "",
    baseURL: bindings.ANTHROPIC_BASE_URL ?? null,
    maxRetries: 0,
  });
}

describe("placed breakpoints against the model server", () => {
  // A model the SDK does not mark deprecated, so no warning is printed on every call.
  const model = "claude-sonnet-4-6";
  const { minCacheableTokens } = MODEL_CATALOG[model];
  const tools = [tool("calculator", 600), tool("search", 600)];
  const system = `You are Meridian's test agent. ${words(minCacheableTokens, "policy")}`;

  it("is accepted, written to the cache on the first call and read from it on the next ones", async () => {
    const client = modelServer();
    const scenario = { headers: { "x-model-scenario": `cache-${crypto.randomUUID()}` } };
    const messages = conversation();
    const placed = placeCacheBreakpoints({ system, tools, messages, minCacheableTokens });
    expect(placed.breakpoints).toBe(4);
    const request = {
      model,
      max_tokens: 64,
      system: placed.system,
      tools: placed.tools,
      messages: placed.messages,
    };

    const first = await client.messages.create(request, scenario);
    expect(first.usage.cache_creation_input_tokens).toBeGreaterThan(0);
    expect(first.usage.cache_read_input_tokens).toBe(0);

    const second = await client.messages.create(request, scenario);
    expect(second.usage.cache_read_input_tokens).toBeGreaterThan(0);
    expect(second.usage.cache_read_input_tokens).toBe(first.usage.cache_creation_input_tokens);

    // The next call of the tool loop: the previous newest turn is now the previous user turn,
    // and its breakpoint finds what the last call wrote; only the new turns are written.
    const next = placeCacheBreakpoints({
      system,
      tools,
      messages: [
        ...messages,
        { role: "assistant", content: [{ type: "text", text: "24." }] },
        { role: "user", content: [{ type: "text", text: "Thanks. And 7 - 2?" }] },
      ],
      minCacheableTokens,
    });
    const third = await client.messages.create({ ...request, messages: next.messages }, scenario);
    expect(third.usage.cache_read_input_tokens).toBe(first.usage.cache_creation_input_tokens);
    expect(third.usage.cache_creation_input_tokens).toBeGreaterThan(0);
  });

  it("is refused with 400 when a request carries a fifth breakpoint, as the API refuses it", async () => {
    const placed = placeCacheBreakpoints({ system, tools, messages: conversation(), minCacheableTokens });
    const [first, ...rest] = placed.messages;
    const fifth: Message = {
      role: "user",
      content: [{ type: "text", text: "What is 2 + 3?", cache_control: { type: "ephemeral" } }],
    };
    expect(first?.role).toBe("user");
    const request = {
      model,
      max_tokens: 64,
      system: placed.system,
      tools: placed.tools,
      messages: [fifth, ...rest],
    };
    expect(markers(request)).toHaveLength(5);

    const error = await modelServer()
      .messages.create(request, { headers: { "x-model-scenario": `cache-${crypto.randomUUID()}` } })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect((error as InstanceType<typeof Anthropic.APIError>).status).toBe(400);
    expect((error as InstanceType<typeof Anthropic.APIError>).message).toContain(
      "A maximum of 4 blocks with cache_control may be provided. Found 5.",
    );
  });
});
