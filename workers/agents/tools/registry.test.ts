import { env } from "cloudflare:workers";
import type Anthropic from "@anthropic-ai/sdk";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../env";
import { providerFor } from "../provider";
import { calculator } from "./calculator";
import { BUILTIN_TOOLS, executeTool, toolDefinition } from "./registry";

const ctx = { tenantId: crypto.randomUUID(), signal: new AbortController().signal, maxOutputBytes: 1024 };

describe("built-in tools", () => {
  it("declares each tool with a JSON Schema the Messages API accepts", () => {
    const definition = toolDefinition(calculator);
    expect(definition).toMatchObject({
      name: "calculator",
      input_schema: { type: "object", required: ["operation", "a", "b"], additionalProperties: false },
    });
    expect(definition.input_schema).not.toHaveProperty("$schema");
    expect([...BUILTIN_TOOLS.keys()]).toEqual(["calculator"]);
  });

  it.each([
    [{ operation: "add", a: 2, b: 3 }, { result: 5 }],
    [{ operation: "divide", a: 1, b: 4 }, { result: 0.25 }],
    [{ operation: "power", a: 2, b: 10 }, { result: 1024 }],
  ])("calculates %j", async (input, expected) => {
    const outcome = await executeTool(calculator, input, ctx);
    expect(outcome.status).toBe("succeeded");
    expect(JSON.parse(outcome.content)).toEqual(expected);
  });

  it.each([
    [{ operation: "divide", a: 1, b: 0 }, "division by zero"],
    [{ operation: "power", a: 10, b: 400 }, "not a finite number"],
    [{ operation: "modulo", a: 1, b: 2 }, "invalid input"],
    [{ a: 1 }, "invalid input"],
    ["rm -rf /", "invalid input"],
  ])("turns %j into a failed result the model can read", async (input, message) => {
    const outcome = await executeTool(calculator, input, ctx);
    expect(outcome.status).toBe("failed");
    expect(outcome.content).toContain(message);
  });

  it("cuts output at the run's limit and refuses to start after cancellation", async () => {
    const chatty = { ...calculator, run: async () => "x".repeat(5000) };
    const cut = await executeTool(chatty, { operation: "add", a: 1, b: 1 }, ctx);
    expect(cut).toMatchObject({ status: "succeeded", truncated: true });
    expect(cut.content).toHaveLength(1024);
    const controller = new AbortController();
    controller.abort();
    const cancelled = await executeTool(
      calculator,
      { operation: "add", a: 1, b: 1 },
      { ...ctx, signal: controller.signal },
    );
    expect(cancelled.status).toBe("failed");
  });

  it("closes a tool round trip with the real SDK against the configured provider", async () => {
    const client = providerFor(parseConfig(env));
    const messages: Anthropic.MessageParam[] = [{ role: "user", content: "What is 2 + 3?" }];
    const tools = [toolDefinition(calculator)];
    const first = await client.messages.create({
      model: "claude-sonnet-4-6",
      max_tokens: 256,
      tools,
      messages,
    });
    expect(first.stop_reason).toBe("tool_use");
    const call = first.content.find((b): b is Anthropic.ToolUseBlock => b.type === "tool_use");
    expect(call?.name).toBe("calculator");
    const outcome = await executeTool(calculator, call?.input, ctx);
    messages.push({ role: "assistant", content: first.content });
    messages.push({
      role: "user",
      content: [
        {
          type: "tool_result",
          tool_use_id: call?.id ?? "",
          content: outcome.content,
          is_error: outcome.status === "failed",
        },
      ],
    });
    const second = await client.messages.create({
      model: "claude-sonnet-4-6",
      max_tokens: 256,
      tools,
      messages,
    });
    expect(second.stop_reason).toBe("end_turn");
    expect(second.content[0]).toMatchObject({ type: "text" });
    expect((second.content[0] as Anthropic.TextBlock).text).toContain("5");
  });
});
