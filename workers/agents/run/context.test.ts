import type Anthropic from "@anthropic-ai/sdk";
import { describe, expect, it } from "vitest";
import { CONTEXT_SAFETY_MARGIN, estimateTokens, fitToContext, omittedNote } from "./context";

type Message = Anthropic.MessageParam;

/** About `tokens` estimated tokens of text (the estimate counts 3 characters a token). */
const words = (tokens: number, tag = "x") => `${tag} `.repeat(Math.ceil((tokens * 3) / (tag.length + 1)));

const user = (text: string): Message => ({ role: "user", content: [{ type: "text", text }] });
const assistant = (text: string): Message => ({ role: "assistant", content: [{ type: "text", text }] });
const toolUse = (id: string, text = "calling"): Message => ({
  role: "assistant",
  content: [
    { type: "text", text },
    { type: "tool_use", id, name: "calculator", input: { expression: "2 + 3" } },
  ],
});
const toolResult = (id: string, content: string): Message => ({
  role: "user",
  content: [{ type: "tool_result", tool_use_id: id, content }],
});

/** A window in which `messages` tokens of transcript fit, with no system, tools or output. */
const windowFor = (messages: number) => Math.ceil(messages / (1 - CONTEXT_SAFETY_MARGIN));

const sizeOf = (messages: Message[]) => messages.reduce((sum, m) => sum + estimateTokens(m), 0);

/**
 * The rules the Messages API enforces on a transcript: it starts with a user turn, roles
 * alternate, and every tool_result answers a tool_use of the turn just before it.
 */
function expectValidTranscript(messages: Message[]): void {
  expect(messages[0]?.role).toBe("user");
  for (const [i, message] of messages.entries()) {
    if (i > 0) expect(message.role, `message ${i}`).not.toBe(messages[i - 1]?.role);
    if (typeof message.content === "string") continue;
    const previous = messages[i - 1]?.content;
    const offered = new Set(
      Array.isArray(previous) ? previous.flatMap((b) => (b.type === "tool_use" ? [b.id] : [])) : [],
    );
    for (const block of message.content) {
      if (block.type === "tool_result") expect(offered.has(block.tool_use_id), `message ${i}`).toBe(true);
    }
  }
}

const firstText = (message: Message | undefined) =>
  Array.isArray(message?.content) && message.content[0]?.type === "text"
    ? message.content[0].text
    : undefined;

describe("estimateTokens", () => {
  it("counts a third of the characters (of the JSON, for objects), rounded up, erring toward too many", () => {
    expect(estimateTokens("abcdefg")).toBe(3); // a string counts by its own length
    expect(estimateTokens({ text: "abcdefg" })).toBe(Math.ceil('{"text":"abcdefg"}'.length / 3));
    expect(estimateTokens(undefined)).toBe(0);
    // English text is about 4 characters a token, so the estimate is above the real count.
    const prose = "The quick brown fox jumps over the lazy dog. ".repeat(100);
    expect(estimateTokens(prose)).toBeGreaterThan(prose.length / 4);
  });
});

describe("fitToContext", () => {
  it("keeps the whole transcript when it fits", () => {
    const messages = [user("hi"), assistant("hello"), user("what is 2 + 3?")];
    const fitted = fitToContext({ tools: [], messages, contextWindow: 200_000, maxOutputTokens: 1_000 });
    expect(fitted).toEqual({ messages, droppedMessages: 0, estimatedInputTokens: sizeOf(messages) });
    expect(fitted.messages).not.toBe(messages);
  });

  it("drops the oldest turns first and says how many in a note at the front of the first kept user turn", () => {
    const messages = [
      user(words(1_000, "one")),
      assistant(words(1_000, "two")),
      user(words(1_000, "three")),
      assistant(words(1_000, "four")),
      user("newest question"),
    ];
    const budget = sizeOf(messages.slice(2)) + 50; // room for the last three and the note
    const fitted = fitToContext({
      tools: [],
      messages,
      contextWindow: windowFor(budget),
      maxOutputTokens: 0,
    });

    expect(fitted.droppedMessages).toBe(2);
    expectValidTranscript(fitted.messages);
    expect(fitted.messages).toHaveLength(3);
    const [first, ...rest] = fitted.messages;
    expect(first).toEqual({
      role: "user",
      content: [
        { type: "text", text: "[Earlier conversation omitted: 2 messages]" },
        { type: "text", text: words(1_000, "three") },
      ],
    });
    expect(rest).toEqual(messages.slice(3));
    expect(fitted.estimatedInputTokens).toBe(sizeOf(fitted.messages));
    expect(fitted.estimatedInputTokens).toBeLessThanOrEqual(budget);
  });

  it("counts the system prompt, the tools and the reserved output against the window", () => {
    const messages = [user(words(1_000)), assistant(words(1_000)), user("newest")];
    const window = windowFor(sizeOf(messages) + 10);
    const tools: Anthropic.Tool[] = [
      { name: "calculator", description: words(300), input_schema: { type: "object", properties: {} } },
    ];
    expect(
      fitToContext({ tools: [], messages, contextWindow: window, maxOutputTokens: 0 }).droppedMessages,
    ).toBe(0);
    for (const extra of [{ system: words(300) }, { tools }, { maxOutputTokens: 300 }]) {
      const fitted = fitToContext({
        tools: [],
        messages,
        contextWindow: window,
        maxOutputTokens: 0,
        ...extra,
      });
      expect(fitted.droppedMessages, JSON.stringify(Object.keys(extra))).toBe(2);
    }
    const withSystem = fitToContext({
      system: "Be brief.",
      tools,
      messages,
      contextWindow: 1e6,
      maxOutputTokens: 0,
    });
    expect(withSystem.estimatedInputTokens).toBe(
      estimateTokens("Be brief.") + estimateTokens(tools) + sizeOf(messages),
    );
  });

  it("never starts at a tool_result whose tool_use was dropped: the pair goes together", () => {
    const messages = [
      user(words(500, "task")),
      toolUse("toolu_1"),
      toolResult("toolu_1", words(1_000, "result")),
      assistant("The result is 5."),
      user("and now?"),
    ];
    // Room for the tool round and what follows: it is kept whole, behind a note turn of its own.
    const withRound = fitToContext({
      tools: [],
      messages,
      contextWindow: windowFor(sizeOf(messages.slice(1)) + 60),
      maxOutputTokens: 0,
    });
    expectValidTranscript(withRound.messages);
    expect(withRound.droppedMessages).toBe(1);
    expect(withRound.messages).toEqual([
      { role: "user", content: [{ type: "text", text: omittedNote(1) }] },
      ...messages.slice(1),
    ]);

    // Room for the tool_result turn but not for its tool_use: both go.
    const without = fitToContext({
      tools: [],
      messages,
      contextWindow: windowFor(sizeOf(messages.slice(2)) + 60),
      maxOutputTokens: 0,
    });
    expectValidTranscript(without.messages);
    expect(without.droppedMessages).toBe(4);
    expect(without.messages).toEqual([
      {
        role: "user",
        content: [
          { type: "text", text: omittedNote(4) },
          { type: "text", text: "and now?" },
        ],
      },
    ]);
  });

  it("sheds the oldest rounds of one long tool loop, the note then being a user turn of its own", () => {
    const messages = [
      user("Add up the three files."),
      toolUse("toolu_1"),
      toolResult("toolu_1", words(2_000, "first")),
      toolUse("toolu_2"),
      toolResult("toolu_2", words(2_000, "second")),
      toolUse("toolu_3"),
      toolResult("toolu_3", words(2_000, "third")),
    ];
    const budget = sizeOf(messages.slice(3)) + 60;
    const fitted = fitToContext({
      tools: [],
      messages,
      contextWindow: windowFor(budget),
      maxOutputTokens: 0,
    });

    expectValidTranscript(fitted.messages);
    expect(fitted.droppedMessages).toBe(3);
    expect(fitted.messages).toEqual([
      { role: "user", content: [{ type: "text", text: "[Earlier conversation omitted: 3 messages]" }] },
      ...messages.slice(3),
    ]);
  });

  it("starts at the user's own words, never at a plain answer whose question was dropped", () => {
    const messages = [
      user(words(1_000, "old")),
      assistant(words(1_000, "answer")),
      user("short follow-up"),
      assistant(words(200, "reply")),
      user("newest"),
    ];
    // Dropping only the first message would fit, but would open on an answer without its question.
    const budget = sizeOf(messages.slice(1)) + 60;
    const fitted = fitToContext({
      tools: [],
      messages,
      contextWindow: windowFor(budget),
      maxOutputTokens: 0,
    });
    expect(fitted.droppedMessages).toBe(2);
    expect(fitted.messages[0]?.content).toEqual([
      { type: "text", text: omittedNote(2) },
      { type: "text", text: "short follow-up" },
    ]);
  });

  it("turns a kept user turn's string content into a text block behind the note", () => {
    const messages: Message[] = [
      { role: "user", content: words(1_000) },
      { role: "assistant", content: "ok" },
      { role: "user", content: "newest" },
    ];
    const fitted = fitToContext({ tools: [], messages, contextWindow: windowFor(100), maxOutputTokens: 0 });
    expect(fitted.messages).toEqual([
      {
        role: "user",
        content: [
          { type: "text", text: omittedNote(2) },
          { type: "text", text: "newest" },
        ],
      },
    ]);
  });

  it("always keeps the newest user turn, even alone too big for the window (the provider's 400 reports it)", () => {
    const newest = user(words(5_000, "huge"));
    const messages = [user("hi"), assistant("hello"), newest];
    const fitted = fitToContext({ tools: [], messages, contextWindow: 1_000, maxOutputTokens: 100 });
    expect(fitted.droppedMessages).toBe(2);
    expect(fitted.messages).toHaveLength(1);
    expect(firstText(fitted.messages[0])).toBe(omittedNote(2));
    expect(fitted.messages[0]?.content).toEqual([
      { type: "text", text: omittedNote(2) },
      ...(newest.content as Anthropic.ContentBlockParam[]),
    ]);
    expect(fitted.estimatedInputTokens).toBeGreaterThan(1_000);

    const alone = fitToContext({ tools: [], messages: [newest], contextWindow: 1_000, maxOutputTokens: 100 });
    expect(alone.messages).toEqual([newest]);
    expect(alone.droppedMessages).toBe(0);
  });

  it("keeps a too-big newest tool_result with the tool_use it answers", () => {
    const messages = [user("read the log"), toolUse("toolu_1"), toolResult("toolu_1", words(5_000, "log"))];
    const fitted = fitToContext({ tools: [], messages, contextWindow: 1_000, maxOutputTokens: 100 });
    expectValidTranscript(fitted.messages);
    expect(fitted.messages.slice(1)).toEqual(messages.slice(1));
    expect(fitted.droppedMessages).toBe(1);
  });

  it("keeps every transcript valid whatever the window, and never modifies its input", () => {
    const messages: Message[] = [user("start")];
    for (let round = 1; round <= 6; round++) {
      messages.push(toolUse(`toolu_${round}`), toolResult(`toolu_${round}`, words(round * 150, `r${round}`)));
      messages.push(assistant(words(100, "summary")), user(`question ${round}`));
    }
    const before = structuredClone(messages);
    const newestContent = messages.at(-1)?.content;
    for (let window = 200; window <= 6_000; window += 150) {
      const fitted = fitToContext({
        system: "s",
        tools: [],
        messages,
        contextWindow: window,
        maxOutputTokens: 50,
      });
      expectValidTranscript(fitted.messages);
      expect(fitted.messages.at(-1)?.content).toEqual(
        fitted.messages.length === 1 && fitted.droppedMessages > 0
          ? [{ type: "text", text: omittedNote(fitted.droppedMessages) }, ...(newestContent as [])]
          : newestContent,
      );
      if (fitted.droppedMessages > 0)
        expect(firstText(fitted.messages[0])).toBe(omittedNote(fitted.droppedMessages));
    }
    expect(messages).toEqual(before);
  });
});
