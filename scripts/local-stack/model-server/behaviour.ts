import { createHash, type Hash } from "node:crypto";
import { type ScriptBlock, type StopReason, tokens } from "./wire.ts";

/** The body of POST /v1/messages as far as the model server reads it. */
export interface MessagesRequest {
  model?: unknown;
  max_tokens?: unknown;
  messages?: unknown;
  system?: unknown;
  tools?: unknown;
  tool_choice?: unknown;
  stream?: unknown;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const blocksOf = (content: unknown): Obj[] => (Array.isArray(content) ? content.filter(isObj) : []);

/** The API's limit on `cache_control` breakpoints across tools, system and messages together. */
export const MAX_CACHE_BREAKPOINTS = 4;

/**
 * The request checks the real API makes that are cheap to copy. The messages (`model: Field
 * required`, `A maximum of 4 blocks with cache_control may be provided. Found 5.`, …) are the
 * API's own, so tests can assert on them. The breakpoint rule in particular mirrors the API:
 * every `cache_control` on a tool, a system block or a message content block counts, and a
 * fifth one fails the whole request with 400 invalid_request_error; tests rely on this to
 * catch a placement that production would reject.
 *
 * @returns the error message, or undefined when the request is acceptable.
 */
export function validate(body: MessagesRequest): string | undefined {
  if (typeof body.model !== "string" || body.model === "") return "model: Field required";
  if (body.max_tokens === undefined) return "max_tokens: Field required";
  if (!Number.isInteger(body.max_tokens)) return "max_tokens: Input should be a valid integer";
  if ((body.max_tokens as number) < 1) return "max_tokens: Input should be greater than or equal to 1";
  if (!Array.isArray(body.messages)) return "messages: Field required";
  if (body.messages.length === 0) return "messages: at least one message is required";
  let previous: Obj | undefined;
  for (const [i, message] of body.messages.entries()) {
    if (!isObj(message) || (message.role !== "user" && message.role !== "assistant")) {
      return `messages.${i}.role: Input should be 'user' or 'assistant'`;
    }
    if (i === 0 && message.role !== "user") return 'messages: first message must use the "user" role';
    if (previous?.role === message.role) {
      return `messages: roles must alternate between "user" and "assistant", but found multiple "${message.role}" roles in a row`;
    }
    const offered = new Set(
      blocksOf(previous?.content).flatMap((b) => (b.type === "tool_use" ? [b.id] : [])),
    );
    const answered = new Set(
      blocksOf(message.content).flatMap((b) => (b.type === "tool_result" ? [b.tool_use_id] : [])),
    );
    const unanswered = [...offered].filter((id) => !answered.has(id));
    if (unanswered.length > 0) {
      return `messages.${i}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${unanswered.join(", ")}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`;
    }
    for (const [j, block] of blocksOf(message.content).entries()) {
      if (block.type === "tool_result" && !offered.has(block.tool_use_id)) {
        return `messages.${i}.content.${j}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${String(block.tool_use_id)}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`;
      }
    }
    previous = message;
  }
  const found = segments(body).filter((s) => s.breakpoint).length;
  if (found > MAX_CACHE_BREAKPOINTS) {
    return `A maximum of ${MAX_CACHE_BREAKPOINTS} blocks with cache_control may be provided. Found ${found}.`;
  }
  return undefined;
}

interface Segment {
  text: string;
  breakpoint?: { ttl: "5m" | "1h" };
}

/** The prompt in the API's cache order (tools, then system, then messages), one piece per block. */
function segments(body: MessagesRequest): Segment[] {
  const piece = (block: Obj, prefix = ""): Segment => {
    const { cache_control, ...rest } = block;
    const text = prefix + JSON.stringify(rest);
    if (!isObj(cache_control)) return { text };
    return { text, breakpoint: { ttl: cache_control.ttl === "1h" ? "1h" : "5m" } };
  };
  const out = blocksOf(body.tools).map((tool) => piece(tool));
  if (typeof body.system === "string") out.push({ text: body.system });
  else out.push(...blocksOf(body.system).map((block) => piece(block)));
  for (const message of Array.isArray(body.messages) ? body.messages.filter(isObj) : []) {
    const role = `${String(message.role)}:`;
    if (typeof message.content === "string") out.push({ text: role + message.content });
    else out.push(...blocksOf(message.content).map((block, i) => piece(block, i === 0 ? role : "")));
  }
  return out;
}

export interface InputUsage {
  input_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  cache_creation: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number };
}

/**
 * Input token counts with prompt caching. Each breakpoint names the prefix up to and including
 * its block; the longest prefix seen before (under the same `namespace`) is a cache read, and the
 * rest up to the last breakpoint is cache creation. Unlike the API there is no minimum cacheable
 * length and no expiry, so small test prompts show hits.
 */
export function inputUsage(body: MessagesRequest, cache: Set<string>, namespace: string): InputUsage {
  const hash: Hash = createHash("sha256").update(`${namespace}\n${String(body.model)}\n`);
  let chars = 0;
  const breakpoints: { key: string; chars: number; ttl: "5m" | "1h" }[] = [];
  for (const segment of segments(body)) {
    hash.update(`${segment.text}\n`);
    chars += segment.text.length;
    if (segment.breakpoint) {
      breakpoints.push({ key: hash.copy().digest("hex"), chars, ...segment.breakpoint });
    }
  }
  const hit = breakpoints.findLast((b) => cache.has(b.key));
  const last = breakpoints.at(-1);
  const read = hit ? tokens(hit.chars) : 0;
  const creation = last && last !== hit ? tokens(last.chars) - read : 0;
  for (const b of breakpoints) cache.add(b.key);
  return {
    input_tokens: Math.max(1, tokens(chars) - read - creation),
    cache_creation_input_tokens: creation,
    cache_read_input_tokens: read,
    cache_creation: {
      ephemeral_5m_input_tokens: last?.ttl === "1h" ? 0 : creation,
      ephemeral_1h_input_tokens: last?.ttl === "1h" ? creation : 0,
    },
  };
}

const textOf = (content: unknown): string =>
  typeof content === "string"
    ? content
    : blocksOf(content)
        .flatMap((b) => (b.type === "text" && typeof b.text === "string" ? [b.text] : []))
        .join(" ");

const EXPRESSION = /(-?\d+(?:\.\d+)?)\s*([-+*/×x÷])\s*(-?\d+(?:\.\d+)?)/;
const OPERATIONS: Record<string, string[]> = {
  "+": ["add", "plus", "sum", "addition", "+"],
  "-": ["subtract", "minus", "sub", "subtraction", "-"],
  "*": ["multiply", "times", "mul", "multiplication", "*", "x", "×"],
  "/": ["divide", "div", "division", "/", "÷"],
};

/** The tool input for `a op b`, shaped to the tool's schema (`expression`, or `a`/`b` and an operation). */
function calculatorInput(tool: Obj, a: number, op: string, b: number): Obj | undefined {
  const schema = isObj(tool.input_schema) ? tool.input_schema : {};
  const props = isObj(schema.properties) ? schema.properties : {};
  const numeric = (p: unknown) => isObj(p) && (p.type === "number" || p.type === "integer");
  if (numeric(props.a) && numeric(props.b)) {
    const input: Obj = { a, b };
    const opKey = ["operation", "op", "operator"].find((k) => k in props);
    if (opKey) {
      const spec = props[opKey];
      const allowed = isObj(spec) && Array.isArray(spec.enum) ? spec.enum.map(String) : undefined;
      const names = OPERATIONS[op] ?? [op];
      input[opKey] = allowed ? (allowed.find((v) => names.includes(v.toLowerCase())) ?? allowed[0]) : op;
    }
    return input;
  }
  if ("expression" in props || tool.name === "calculator") return { expression: `${a} ${op} ${b}` };
  return undefined;
}

const truncate = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/**
 * What the server answers when no script applies. A tool_result in the last user turn is answered
 * with its content; arithmetic in the user's text, with a calculator tool on offer, gets a
 * tool_use; anything else is echoed. Text longer than max_tokens is cut (stop_reason max_tokens).
 */
export function defaultReply(body: MessagesRequest): { content: ScriptBlock[]; stop_reason: StopReason } {
  const messages = (body.messages as Obj[]).filter((m) => m.role === "user");
  const last = messages.at(-1) ?? {};
  const results = blocksOf(last.content).filter((b) => b.type === "tool_result");
  const maxChars = Number(body.max_tokens) * 4;
  const reply = (text: string) =>
    text.length > maxChars
      ? {
          content: [{ type: "text" as const, text: text.slice(0, maxChars) }],
          stop_reason: "max_tokens" as const,
        }
      : { content: [{ type: "text" as const, text }], stop_reason: "end_turn" as const };
  if (results.length > 0) {
    const values = results.map((r) => textOf(r.content) || String(r.content ?? ""));
    return reply(`The result is ${values.join(", ")}.`);
  }
  const text = textOf(last.content);
  const match = EXPRESSION.exec(text);
  const choice = isObj(body.tool_choice) ? body.tool_choice.type : undefined;
  if (match && choice !== "none") {
    const op = { x: "*", "×": "*", "÷": "/" }[match[2] as string] ?? (match[2] as string);
    for (const tool of blocksOf(body.tools)) {
      const input = calculatorInput(tool, Number(match[1]), op, Number(match[3]));
      if (input) {
        return {
          content: [
            { type: "text", text: `I'll use ${String(tool.name)} to work out ${match[0]}.` },
            { type: "tool_use", name: String(tool.name), input },
          ],
          stop_reason: "tool_use",
        };
      }
    }
  }
  return reply(`Echo: ${truncate(text.replace(/\s+/g, " ").trim(), 120)}`);
}
