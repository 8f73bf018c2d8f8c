import { z } from "zod";
import { type BuiltinMcpServer, defineTool, type McpTool, ToolError } from "../server/types";

/*
 * Exact decimal arithmetic on BigInt-scaled decimals: a value is `coef × 10^exp`. Operands are
 * read as the decimal a person wrote: a JSON number by its shortest round-trip form (0.1 is
 * "0.1", not the binary double 0.1000000000000000055...), a string digit for digit. Sums,
 * differences and products are then always exact; a quotient is exact when it terminates.
 */
interface Decimal {
  coef: bigint;
  /** Trailing zeros of `coef` are moved into `exp`, so equal values have equal fields. */
  exp: number;
}

/** Significant digits of a quotient that does not terminate (1/3), as in IEEE 754 decimal128. */
const DIVISION_DIGITS = 34;
/** Largest |exponent| `power` accepts; beyond it the work, not the answer, would be unbounded. */
const MAX_EXPONENT = 1_000_000;
/**
 * Size bound (in bits of the base's coefficient times the exponent) of an exact power. Every
 * integer power that fits in a double (below 2^1024) is inside it, so integer arithmetic never
 * loses exactness short of `overflow`.
 */
const EXACT_POWER_BITS = 2048;

const ZERO: Decimal = { coef: 0n, exp: 0 };
const ONE: Decimal = { coef: 1n, exp: 0 };

/** A decimal numeral (exponent of at most three digits), or the non-finite names a double prints. */
const NUMERAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,3})?$|^(?:[+-]?Infinity|NaN)$/;

const operand = (what: string) =>
  z
    // JSON cannot write Infinity or NaN, but JSON.parse turns 1e400 into Infinity and in-process
    // callers can pass either: as strings they reach the tool, which names the problem.
    .preprocess(
      (v) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v),
      z.union([
        z.number(),
        z.string().max(400).regex(NUMERAL, "must be a decimal number such as 0.1, -3 or 2.5e-7"),
      ]),
    )
    .describe(
      `${what}: a JSON number, or a decimal string such as "0.1" or "1.25e-3" (read exactly, digit for digit).`,
    );

const input = z.object({ a: operand("The first operand"), b: operand("The second operand") }).strict();
type Input = z.infer<typeof input>;

/** What every calculator tool returns. */
export interface CalculatorResult {
  /** The answer as a JSON number: the double nearest to `decimal`. */
  result: number;
  /** The answer in decimal notation: "0.3", "1267650600228229401496703205376", "2e-999". */
  decimal: string;
  /**
   * True when `decimal` is the exact answer. False for a quotient that does not terminate
   * (rounded to 34 significant digits) and for a power computed in floating point.
   */
  exact: boolean;
}

function normalize(coef: bigint, exp: number): Decimal {
  if (coef === 0n) return ZERO;
  let c = coef;
  let e = exp;
  while (c % 10n === 0n) {
    c /= 10n;
    e++;
  }
  return { coef: c, exp: e };
}

function pow10(n: number): bigint {
  return 10n ** BigInt(n);
}

function abs(n: bigint): bigint {
  return n < 0n ? -n : n;
}

function digitCount(n: bigint): number {
  return abs(n).toString().length;
}

function gcd(a: bigint, b: bigint): bigint {
  let x = abs(a);
  let y = abs(b);
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

function parseNumeral(text: string): Decimal {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m) throw new ToolError(`"${text}" is not a decimal number.`, "invalid_input");
  const [, sign, int = "", frac = "", e = "0"] = m;
  const coef = BigInt(int + frac || "0");
  return normalize(sign === "-" ? -coef : coef, Number(e) - frac.length);
}

/**
 * The operand as an exact decimal.
 *
 * @throws ToolError not_finite for NaN, ±Infinity and numerals beyond the largest double.
 */
function toDecimal(value: number | string, name: string): Decimal {
  const text = typeof value === "number" ? String(value) : value;
  if (!Number.isFinite(Number(text))) {
    throw new ToolError(`${name} is ${text}, not a finite number.`, "not_finite");
  }
  return parseNumeral(text);
}

/** Correctly rounded: the engine's numeral parser rounds to the nearest double. */
function toNumber(d: Decimal): number {
  const n = Number(`${d.coef}e${d.exp}`);
  return n === 0 ? 0 : n;
}

/**
 * Plain digits ("1267650600228229401496703205376", "0.000125"), like `Number.prototype.toString`
 * but without its 21-digit limit: exponent notation ("1e+300", "2e-999") only past 21 trailing
 * or 6 leading zeros.
 */
function format(d: Decimal): string {
  if (d.coef === 0n) return "0";
  const digits = abs(d.coef).toString();
  const n = d.exp + digits.length;
  let text: string;
  if (d.exp >= 0 && d.exp <= 21) text = digits + "0".repeat(d.exp);
  else if (d.exp < 0 && n > 0) text = `${digits.slice(0, n)}.${digits.slice(n)}`;
  else if (d.exp < 0 && n > -6) text = `0.${"0".repeat(-n)}${digits}`;
  else {
    const e = n - 1;
    text = `${digits[0]}${digits.length > 1 ? `.${digits.slice(1)}` : ""}e${e < 0 ? "-" : "+"}${Math.abs(e)}`;
  }
  return d.coef < 0n ? `-${text}` : text;
}

function add(a: Decimal, b: Decimal): Decimal {
  const exp = Math.min(a.exp, b.exp);
  return normalize(a.coef * pow10(a.exp - exp) + b.coef * pow10(b.exp - exp), exp);
}

function multiply(a: Decimal, b: Decimal): Decimal {
  return normalize(a.coef * b.coef, a.exp + b.exp);
}

/** `a / b`, exact when the reduced denominator has no prime factor but 2 and 5. */
function divide(a: Decimal, b: Decimal): { value: Decimal; exact: boolean } {
  if (b.coef === 0n) throw new ToolError("Division by zero has no result.", "division_by_zero");
  let num = b.coef < 0n ? -a.coef : a.coef;
  let den = abs(b.coef);
  const g = gcd(num, den);
  num /= g;
  den /= g;
  let rest = den;
  let twos = 0;
  let fives = 0;
  while (rest % 2n === 0n) {
    rest /= 2n;
    twos++;
  }
  while (rest % 5n === 0n) {
    rest /= 5n;
    fives++;
  }
  const exp = a.exp - b.exp;
  if (rest === 1n) {
    const m = Math.max(twos, fives);
    const coef = num * 2n ** BigInt(m - twos) * 5n ** BigInt(m - fives);
    return { value: normalize(coef, exp - m), exact: true };
  }
  // Non-terminating: take at least DIVISION_DIGITS + 1 digits of the quotient, then round.
  const n = abs(num);
  const shift = Math.max(0, DIVISION_DIGITS + 1 + digitCount(den) - digitCount(n));
  const q = (n * pow10(shift)) / den;
  const extra = digitCount(q) - DIVISION_DIGITS;
  const unit = pow10(extra);
  let coef = q / unit;
  // The dropped remainder is never zero here, so a remainder of exactly half a unit is above
  // the midpoint: round half up is exact rounding to nearest.
  if ((q % unit) * 2n >= unit) coef += 1n;
  return { value: normalize(num < 0n ? -coef : coef, exp - shift + extra), exact: false };
}

function power(a: Decimal, b: Decimal): { value: Decimal; exact: boolean } {
  const exponent = toNumber(b);
  if (Math.abs(exponent) > MAX_EXPONENT) {
    throw new ToolError(
      `The exponent ${format(b)} is too large; exponents are limited to ±${MAX_EXPONENT}.`,
      "invalid_exponent",
    );
  }
  const integral = b.exp >= 0;
  if (a.coef === 0n) {
    if (exponent < 0)
      throw new ToolError("Zero to a negative power is a division by zero.", "division_by_zero");
    return { value: exponent === 0 ? ONE : ZERO, exact: true };
  }
  if (!integral && a.coef < 0n) {
    throw new ToolError(
      "A negative base with a fractional exponent has no real result (it is a complex number).",
      "invalid_exponent",
    );
  }
  if (integral) {
    const k = Math.abs(exponent);
    if (k === 0) return { value: ONE, exact: true };
    const base = abs(a.coef);
    if (base === 1n || base.toString(2).length * k <= EXACT_POWER_BITS) {
      const p = normalize(a.coef ** BigInt(k), a.exp * k);
      return exponent > 0 ? { value: p, exact: true } : divide(ONE, p);
    }
  }
  const r = toNumber(a) ** exponent;
  if (!Number.isFinite(r)) throw overflow();
  return { value: toDecimal(r, "The result"), exact: false };
}

function overflow(): ToolError {
  return new ToolError(
    "The result is beyond the range of a double (about ±1.8e308) and cannot be returned as a number.",
    "overflow",
  );
}

function answer(value: Decimal, exact = true): CalculatorResult {
  const result = toNumber(value);
  if (!Number.isFinite(result)) throw overflow();
  return { result, decimal: format(value), exact };
}

function operands({ a, b }: Input): [Decimal, Decimal] {
  return [toDecimal(a, "a"), toDecimal(b, "b")];
}

const annotations = { readOnlyHint: true, idempotentHint: true, destructiveHint: false };

const RESULT_NOTE =
  "Returns { result, decimal, exact }: result is a JSON number, decimal the answer written out " +
  "(exact when exact is true).";

function tool(
  name: string,
  title: string,
  description: string,
  compute: (a: Decimal, b: Decimal) => CalculatorResult,
): McpTool {
  return defineTool({
    name,
    title,
    description: `${description} ${RESULT_NOTE}`,
    input,
    annotations,
    async run(args) {
      const [a, b] = operands(args);
      return compute(a, b);
    },
  });
}

/**
 * The built-in calculator: add, subtract, multiply, divide and power on two operands, exact in
 * decimal where the answer has a finite decimal form (0.1 + 0.2 is 0.3). Failures are
 * `ToolError`s with reasons `division_by_zero`, `overflow` (beyond the double range),
 * `not_finite` (NaN or infinite operands) and `invalid_exponent`.
 */
export const calculatorServer: BuiltinMcpServer = {
  name: "calculator",
  title: "Calculator",
  description:
    "Exact decimal arithmetic on two numbers: add, subtract, multiply, divide, power. Pass operands " +
    'as JSON numbers or decimal strings ("0.1"); answers come as a number and as a decimal string.',
  version: "1.0.0",
  tools: [
    tool("add", "Add", "Adds a and b exactly.", (a, b) => answer(add(a, b))),
    tool("subtract", "Subtract", "Subtracts b from a exactly.", (a, b) =>
      answer(add(a, { coef: -b.coef, exp: b.exp })),
    ),
    tool("multiply", "Multiply", "Multiplies a by b exactly.", (a, b) => answer(multiply(a, b))),
    tool(
      "divide",
      "Divide",
      "Divides a by b: exact when the quotient terminates, else rounded to 34 significant digits. " +
        "Dividing by zero is an error.",
      (a, b) => {
        const q = divide(a, b);
        return answer(q.value, q.exact);
      },
    ),
    tool(
      "power",
      "Power",
      `Raises a to the power b (|b| up to ${MAX_EXPONENT}). Integer exponents are exact while the ` +
        "answer has at most about 600 digits (a negative one divides, rounding like divide); larger " +
        "ones and fractional exponents are computed in floating point (exact: false). A fractional " +
        "exponent needs a base of at least zero.",
      (a, b) => {
        const p = power(a, b);
        return answer(p.value, p.exact);
      },
    ),
  ],
};
