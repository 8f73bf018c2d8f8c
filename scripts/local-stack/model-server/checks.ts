import Anthropic from "@anthropic-ai/sdk";
import type { RecordedRequest, ScriptStep } from "../model-server.ts";

/**
 * Checks of the model server through the real `@anthropic-ai/sdk`, shared by the Node script
 * (model-server.check.ts) and the workerd test (model-server.test.ts). Plain functions with no
 * test framework, so both runners can call them.
 */

export interface ModelServerAddress {
  baseURL: string;
  apiKey: string;
}

export interface Check {
  name: string;
  run(server: ModelServerAddress): Promise<void>;
}

function ensure(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}
const show = (value: unknown) => JSON.stringify(value);

const MODEL = "claude-haiku-4-5";
const client = (server: ModelServerAddress, opts: ConstructorParameters<typeof Anthropic>[0] = {}) =>
  new Anthropic({ baseURL: server.baseURL, apiKey: server.apiKey, maxRetries: 0, ...opts });
const scenarioId = () => `check-${crypto.randomUUID()}`;
const inScenario = (scenario: string) => ({ headers: { "x-model-scenario": scenario } });

async function script(server: ModelServerAddress, scenario: string, responses: ScriptStep[]): Promise<void> {
  const res = await fetch(`${server.baseURL}/__script`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ scenario, responses }),
  });
  ensure(res.ok, `POST /__script answered ${res.status}`);
}

async function requests(server: ModelServerAddress, scenario: string): Promise<RecordedRequest[]> {
  const res = await fetch(`${server.baseURL}/__requests?scenario=${encodeURIComponent(scenario)}`);
  return ((await res.json()) as { requests: RecordedRequest[] }).requests;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to fail");
}

const calculator = {
  name: "calculator",
  description: "Does arithmetic on two numbers",
  input_schema: {
    type: "object" as const,
    properties: {
      a: { type: "number" },
      b: { type: "number" },
      operation: { type: "string", enum: ["add", "subtract", "multiply", "divide"] },
    },
    required: ["a", "b", "operation"],
  },
};

export const checks: Check[] = [
  {
    name: "non-streaming text echoes the user with usage",
    async run(server) {
      const message = await client(server).messages.create({
        model: MODEL,
        max_tokens: 256,
        messages: [{ role: "user", content: "Hello there, model" }],
      });
      ensure(message.id.startsWith("msg_") && message.type === "message", show(message));
      ensure(
        message.content[0]?.type === "text" && message.content[0].text === "Echo: Hello there, model",
        show(message),
      );
      ensure(message.stop_reason === "end_turn", `stop_reason ${message.stop_reason}`);
      ensure(message.usage.input_tokens > 0 && message.usage.output_tokens > 0, show(message.usage));
    },
  },
  {
    name: "streaming text arrives as events in the API's order",
    async run(server) {
      const stream = await client(server).messages.create({
        model: MODEL,
        max_tokens: 256,
        stream: true,
        messages: [{ role: "user", content: "Stream this reply back to me please" }],
      });
      const types: string[] = [];
      let text = "";
      for await (const event of stream) {
        types.push(event.type);
        if (event.type === "content_block_delta" && event.delta.type === "text_delta")
          text += event.delta.text;
      }
      const deltas = types.filter((t) => t === "content_block_delta").length;
      const expected = ["message_start", "content_block_start", ...Array(deltas).fill("content_block_delta")];
      expected.push("content_block_stop", "message_delta", "message_stop");
      ensure(deltas >= 2, `only ${deltas} text deltas`);
      ensure(show(types) === show(expected), `events ${show(types)}`);
      ensure(text === "Echo: Stream this reply back to me please", `text ${show(text)}`);
    },
  },
  {
    name: "tool_use round trip with streamed input_json_delta",
    async run(server) {
      const anthropic = client(server);
      const question = { role: "user" as const, content: "What is 2 + 3?" };
      const stream = anthropic.messages.stream({
        model: MODEL,
        max_tokens: 256,
        tools: [calculator],
        messages: [question],
      });
      let jsonDeltas = 0;
      stream.on("streamEvent", (event) => {
        if (event.type === "content_block_delta" && event.delta.type === "input_json_delta") jsonDeltas++;
      });
      const first = await stream.finalMessage();
      const use = first.content.find((b) => b.type === "tool_use");
      ensure(first.stop_reason === "tool_use" && use, show(first));
      ensure(show(use.input) === show({ a: 2, b: 3, operation: "add" }), `input ${show(use.input)}`);
      ensure(jsonDeltas >= 3, `only ${jsonDeltas} input_json_delta events`);
      const second = await anthropic.messages.create({
        model: MODEL,
        max_tokens: 256,
        tools: [calculator],
        messages: [
          question,
          { role: "assistant", content: first.content },
          { role: "user", content: [{ type: "tool_result", tool_use_id: use.id, content: "5" }] },
        ],
      });
      const reply = second.content[0];
      ensure(
        reply?.type === "text" && reply.text.includes("5") && second.stop_reason === "end_turn",
        show(second),
      );
    },
  },
  {
    name: "scripted 429 reaches the SDK as RateLimitError with retry-after",
    async run(server) {
      const scenario = scenarioId();
      await script(server, scenario, [
        {
          error: {
            status: 429,
            type: "rate_limit_error",
            message: "Number of requests exceeded",
            retryAfter: 7,
          },
        },
      ]);
      const error = await rejection(
        client(server).messages.create(
          { model: MODEL, max_tokens: 16, messages: [{ role: "user", content: "hi" }] },
          inScenario(scenario),
        ),
      );
      ensure(error instanceof Anthropic.RateLimitError && error.status === 429, String(error));
      ensure(error.headers?.get("retry-after") === "7", `retry-after ${error.headers?.get("retry-after")}`);
      ensure(error.type === "rate_limit_error" && error.requestID?.startsWith("req_"), show(error.error));
    },
  },
  {
    name: "scripted 529 is an overloaded_error",
    async run(server) {
      const scenario = scenarioId();
      await script(server, scenario, [
        { error: { status: 529, type: "overloaded_error", message: "Overloaded" } },
      ]);
      const error = await rejection(
        client(server).messages.create(
          { model: MODEL, max_tokens: 16, messages: [{ role: "user", content: "hi" }] },
          inScenario(scenario),
        ),
      );
      ensure(error instanceof Anthropic.InternalServerError && error.status === 529, String(error));
      ensure(error.type === "overloaded_error", show(error.error));
    },
  },
  {
    name: "an overloaded_error in the middle of a stream",
    async run(server) {
      const scenario = scenarioId();
      await script(server, scenario, [{ error: { status: 529, type: "overloaded_error", inStream: true } }]);
      const stream = client(server).messages.stream(
        { model: MODEL, max_tokens: 16, messages: [{ role: "user", content: "hi" }] },
        inScenario(scenario),
      );
      const error = await rejection(stream.finalMessage());
      ensure(error instanceof Anthropic.APIError && error.type === "overloaded_error", String(error));
    },
  },
  {
    name: "missing or wrong api key is an AuthenticationError",
    async run(server) {
      const params = { model: MODEL, max_tokens: 16, messages: [{ role: "user" as const, content: "hi" }] };
      const missing = await rejection(
        client(server, { defaultHeaders: { Authorization: null, "X-Api-Key": null } }).messages.create(
          params,
        ),
      );
      ensure(missing instanceof Anthropic.AuthenticationError && missing.status === 401, String(missing));
      ensure(missing.message.includes("x-api-key header is required"), missing.message);
      const wrong = await rejection(client(server, { apiKey: "not-the-key" }).messages.create(params));
      ensure(
        wrong instanceof Anthropic.AuthenticationError && wrong.message.includes("invalid x-api-key"),
        String(wrong),
      );
    },
  },
  {
    name: "missing anthropic-version is a 400",
    async run(server) {
      const res = await fetch(`${server.baseURL}/v1/messages`, {
        method: "POST",
        headers: { "x-api-key": server.apiKey, "content-type": "application/json" },
        body: JSON.stringify({ model: MODEL, max_tokens: 16, messages: [{ role: "user", content: "hi" }] }),
      });
      const body = (await res.json()) as { type: string; error: { type: string; message: string } };
      ensure(res.status === 400 && body.type === "error", `${res.status} ${show(body)}`);
      ensure(
        body.error.type === "invalid_request_error" && body.error.message.includes("anthropic-version"),
        show(body),
      );
    },
  },
  {
    name: "requests are validated like the API (roles, max_tokens, 5 cache_control breakpoints)",
    async run(server) {
      const anthropic = client(server);
      const cached = { type: "ephemeral" as const };
      const tooMany = await rejection(
        anthropic.messages.create({
          model: MODEL,
          max_tokens: 16,
          tools: [{ ...calculator, cache_control: cached }],
          system: [
            { type: "text", text: "one", cache_control: cached },
            { type: "text", text: "two", cache_control: cached },
          ],
          messages: [
            {
              role: "user",
              content: [
                { type: "text", text: "three", cache_control: cached },
                { type: "text", text: "four", cache_control: cached },
              ],
            },
          ],
        }),
      );
      ensure(tooMany instanceof Anthropic.BadRequestError && tooMany.status === 400, String(tooMany));
      ensure(
        tooMany.message.includes("A maximum of 4 blocks with cache_control may be provided. Found 5."),
        tooMany.message,
      );
      const twoUsers = await rejection(
        anthropic.messages.create({
          model: MODEL,
          max_tokens: 16,
          messages: [
            { role: "user", content: "a" },
            { role: "user", content: "b" },
          ],
        }),
      );
      ensure(
        twoUsers instanceof Anthropic.BadRequestError && twoUsers.message.includes("alternate"),
        String(twoUsers),
      );
      const zero = await rejection(
        anthropic.messages.create({
          model: MODEL,
          max_tokens: 0,
          messages: [{ role: "user", content: "a" }],
        }),
      );
      ensure(zero instanceof Anthropic.BadRequestError && zero.message.includes("max_tokens"), String(zero));
    },
  },
  {
    name: "a repeated cache_control prefix is a cache read, and requests are recorded",
    async run(server) {
      const scenario = scenarioId();
      const params = {
        model: MODEL,
        max_tokens: 64,
        system: [
          {
            type: "text" as const,
            text: "You are Meridian. ".repeat(40),
            cache_control: { type: "ephemeral" as const },
          },
        ],
        messages: [{ role: "user" as const, content: "first" }],
      };
      const anthropic = client(server);
      const first = await anthropic.messages.create(params, inScenario(scenario));
      const second = await anthropic.messages.create(
        { ...params, messages: [{ role: "user", content: "second" }] },
        inScenario(scenario),
      );
      ensure((first.usage.cache_creation_input_tokens ?? 0) > 100, `first ${show(first.usage)}`);
      ensure(first.usage.cache_read_input_tokens === 0, `first ${show(first.usage)}`);
      ensure(
        second.usage.cache_read_input_tokens === first.usage.cache_creation_input_tokens,
        show(second.usage),
      );
      ensure(second.usage.cache_creation_input_tokens === 0, `second ${show(second.usage)}`);
      const seen = await requests(server, scenario);
      ensure(seen.length === 2, `${seen.length} requests recorded`);
      const [recorded] = seen;
      ensure(recorded, "no request recorded");
      const { system } = recorded.body as { system: { cache_control?: unknown }[] };
      ensure(show(system[0]?.cache_control) === show({ type: "ephemeral" }), show(system));
      ensure(!("x-api-key" in recorded.headers) && !("authorization" in recorded.headers), "key recorded");
      ensure(recorded.headers["anthropic-version"], "anthropic-version not recorded");
    },
  },
  {
    name: "a scripted step with citations streams citations_delta",
    async run(server) {
      const scenario = scenarioId();
      const citation = {
        type: "char_location",
        cited_text: "The sky is blue.",
        document_index: 0,
        document_title: "Facts",
        start_char_index: 0,
        end_char_index: 16,
        file_id: null,
      };
      await script(server, scenario, [
        {
          message: {
            content: [{ type: "text", text: "The sky is blue, says the document.", citations: [citation] }],
          },
        },
      ]);
      const stream = client(server).messages.stream(
        {
          model: MODEL,
          max_tokens: 64,
          messages: [
            {
              role: "user",
              content: [
                {
                  type: "document",
                  source: { type: "text", media_type: "text/plain", data: "The sky is blue." },
                  citations: { enabled: true },
                },
                { type: "text", text: "What colour is the sky?" },
              ],
            },
          ],
        },
        inScenario(scenario),
      );
      let citationDeltas = 0;
      stream.on("streamEvent", (event) => {
        if (event.type === "content_block_delta" && event.delta.type === "citations_delta") citationDeltas++;
      });
      const message = await stream.finalMessage();
      const block = message.content[0];
      ensure(citationDeltas === 1, `${citationDeltas} citations_delta events`);
      ensure(block?.type === "text" && block.text === "The sky is blue, says the document.", show(block));
      ensure(show(block.citations) === show([citation]), show(block.citations));
    },
  },
];
