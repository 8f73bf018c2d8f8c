import { ExpressionError } from "./errors";

const NAME = /[A-Za-z_$][A-Za-z0-9_$-]*/y;
const INTEGER = /-?\d+/y;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPES: Record<string, string> = {
  '"': '"',
  "'": "'",
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};

/**
 * A position in the text of a template path or a JSONPath, with the few tokens both share.
 * Names may hold `-` because step ids do (`steps.fetch-users.output`).
 */
export class Cursor {
  pos: number;

  /** @param label names the expression in error messages, e.g. `JSONPath "$.a["`. */
  constructor(
    readonly text: string,
    readonly label: string,
    start = 0,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.text.length;
  }

  peek(length = 1): string {
    return this.text.slice(this.pos, this.pos + length);
  }

  /** Consumes `token` if it comes next. */
  eat(token: string): boolean {
    if (!this.text.startsWith(token, this.pos)) return false;
    this.pos += token.length;
    return true;
  }

  expect(token: string, what: string): void {
    if (!this.eat(token)) this.fail(`expected ${JSON.stringify(token)} ${what}`);
  }

  skipSpaces(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos] ?? "")) this.pos++;
  }

  name(): string | undefined {
    return this.match(NAME);
  }

  integer(): number | undefined {
    const digits = this.match(INTEGER);
    if (digits === undefined) return undefined;
    const value = Number(digits);
    if (!Number.isSafeInteger(value)) this.fail(`${digits} is too large an index`);
    return value;
  }

  number(): number | undefined {
    const digits = this.match(NUMBER);
    return digits === undefined ? undefined : Number(digits);
  }

  /** A 'single' or "double" quoted string with JSON-style escapes, if one comes next. */
  quoted(): string | undefined {
    const quote = this.peek();
    if (quote !== "'" && quote !== '"') return undefined;
    let value = "";
    for (let i = this.pos + 1; i < this.text.length; i++) {
      const char = this.text[i] as string;
      if (char === quote) {
        this.pos = i + 1;
        return value;
      }
      if (char !== "\\") {
        value += char;
        continue;
      }
      const escaped = this.text[++i] ?? "";
      if (escaped === "u") {
        const hex = this.text.slice(i + 1, i + 5);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail("\\u needs four hex digits", i - 1);
        value += String.fromCharCode(Number.parseInt(hex, 16));
        i += 4;
      } else if (ESCAPES[escaped] !== undefined) {
        value += ESCAPES[escaped];
      } else {
        this.fail(`unknown escape \\${escaped}`, i - 1);
      }
    }
    return this.fail("unterminated string");
  }

  fail(message: string, at = this.pos): never {
    const found = at >= this.text.length ? "the end" : JSON.stringify(this.text.slice(at, at + 12));
    throw new ExpressionError(`${this.label}: ${message} at ${found}`);
  }

  private match(pattern: RegExp): string | undefined {
    pattern.lastIndex = this.pos;
    const found = pattern.exec(this.text);
    if (!found) return undefined;
    this.pos += found[0].length;
    return found[0];
  }
}
