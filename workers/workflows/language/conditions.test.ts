import { describe, expect, it, test } from "vitest";
import type { Condition, ConditionOperator, TemplateValue } from "../definition/schema";
import { compilePattern, conditionReferences, evaluateCondition } from "./conditions";
import type { ExpressionContext } from "./context";
import { ExpressionError, UnresolvedVariableError } from "./errors";

const ctx: ExpressionContext = {
  input: {
    n: 5,
    s: "banana",
    t: true,
    z: null,
    list: [1, "two", { three: 3 }],
    obj: { a: 1, b: { c: [1, 2] } },
    empty: [],
    long: `${"x".repeat(10_000)}needle`,
  },
  steps: {
    check: {
      output: {
        score: 0.9,
        label: "spam",
        items: [
          { id: 1, ok: true },
          { id: 2, ok: false },
        ],
      },
      status: "succeeded",
    },
  },
  env: { THRESHOLD: 0.8, MODE: "strict", ALLOWED: ["spam", "ham"] },
};

function leaf(path: string, op: ConditionOperator, value?: TemplateValue): Condition {
  return value === undefined ? { path, op } : { path, op, value };
}

describe("operators on a definite path", () => {
  test.each<[string, ConditionOperator, TemplateValue | undefined, boolean]>([
    // eq / ne: deep JSON equality
    ["$.input.n", "eq", 5, true],
    ["$.input.n", "eq", "5", false],
    ["$.input.n", "ne", "5", true],
    ["$.input.n", "ne", 5, false],
    ["$.input.z", "eq", null, true],
    ["$.input.t", "eq", true, true],
    ["$.input.t", "eq", "true", false],
    ["$.input.obj", "eq", { b: { c: [1, 2] }, a: 1 }, true],
    ["$.input.obj", "eq", { a: 1 }, false],
    ["$.input.obj", "ne", { a: 1 }, true],
    ["$.input.list", "eq", [1, "two", { three: 3 }], true],
    ["$.input.list", "eq", [1, "two"], false],
    // ordering: numbers with numbers, strings with strings, anything else false
    ["$.input.n", "gt", 4, true],
    ["$.input.n", "gt", 5, false],
    ["$.input.n", "gte", 5, true],
    ["$.input.n", "lt", 5.5, true],
    ["$.input.n", "lt", 5, false],
    ["$.input.n", "lte", 5, true],
    ["$.input.s", "gt", "apple", true],
    ["$.input.s", "lt", "cherry", true],
    ["$.input.s", "gte", "banana", true],
    ["$.input.n", "gt", "4", false],
    ["$.input.n", "lt", "10", false],
    ["$.input.s", "gt", 1, false],
    ["$.input.z", "lt", 1, false],
    ["$.input.z", "gte", null, false],
    ["$.input.t", "gt", false, false],
    ["$.input.list", "gt", 0, false],
    // in: an element of an array, or a substring of a string
    ["$.input.n", "in", [1, 5, 9], true],
    ["$.input.n", "in", ["5"], false],
    ["$.input.obj.b", "in", [{ c: [1, 2] }], true],
    ["$.input.s", "in", "a banana split", true],
    ["$.input.s", "in", "a banan split", false],
    ["$.input.n", "in", "12345", false],
    ["$.input.n", "in", 5, false],
    ["$.input.s", "in", { banana: 1 }, false],
    // contains: array element, substring, or object key
    ["$.input.list", "contains", "two", true],
    ["$.input.list", "contains", { three: 3 }, true],
    ["$.input.list", "contains", 2, false],
    ["$.input.s", "contains", "nan", true],
    ["$.input.s", "contains", "x", false],
    ["$.input.s", "contains", 1, false],
    ["$.input.obj", "contains", "b", true],
    ["$.input.obj", "contains", "c", false],
    ["$.input.obj", "contains", 1, false],
    ["$.input.n", "contains", 5, false],
    ["$.input.empty", "contains", null, false],
    // matches: strings only
    ["$.input.s", "matches", "^ban(an)+a$", true],
    ["$.input.s", "matches", "^apple", false],
    ["$.input.s", "matches", "NAN", false],
    ["$.input.n", "matches", "5", false],
    ["$.input.z", "matches", "null", false],
    ["$.input.long", "matches", "x{10000}", true],
    // only the first 10 000 characters are tested
    ["$.input.long", "matches", "needle", false],
    // exists: null counts as present
    ["$.input.n", "exists", undefined, true],
    ["$.input.z", "exists", undefined, true],
    ["$.input.missing", "exists", undefined, false],
    ["$.steps.check", "exists", undefined, true],
    ["$.steps.other", "exists", undefined, false],
  ])("%s %s %j → %s", (path, op, value, expected) => {
    expect(evaluateCondition(leaf(path, op, value), ctx)).toBe(expected);
  });
});

describe("a path that selects nothing", () => {
  test.each<ConditionOperator>(["eq", "ne", "gt", "gte", "lt", "lte", "in", "contains", "matches"])(
    "makes %s false",
    (op) => {
      expect(evaluateCondition(leaf("$.input.missing", op, "x"), ctx)).toBe(false);
      expect(evaluateCondition(leaf("$.steps.never.output", op, "x"), ctx)).toBe(false);
      expect(evaluateCondition(leaf("$.input.empty[*]", op, "x"), ctx)).toBe(false);
    },
  );

  it("makes exists false, and a not around it true", () => {
    expect(evaluateCondition(leaf("$.input.missing", "exists"), ctx)).toBe(false);
    expect(evaluateCondition({ not: leaf("$.input.missing", "eq", 1) }, ctx)).toBe(true);
  });
});

describe("a path with wildcards compares the list of matches", () => {
  test.each<[string, ConditionOperator, TemplateValue | undefined, boolean]>([
    ["$.steps.check.output.items[*].id", "eq", [1, 2], true],
    ["$.steps.check.output.items[*].id", "contains", 2, true],
    ["$.steps.check.output.items[*].id", "contains", 3, false],
    ["$.steps.check.output.items[?(@.ok == true)].id", "eq", [1], true],
    ["$.steps.check.output.items[?(@.ok == true)]", "exists", undefined, true],
    ["$.steps.check.output.items[?(@.id > 5)]", "exists", undefined, false],
    ["$..label", "eq", ["spam"], true],
    ["$.steps.check.output.items[*].id", "gt", 0, false],
    ["$.input.list[0:1]", "eq", [1], true],
  ])("%s %s %j → %s", (path, op, value, expected) => {
    expect(evaluateCondition(leaf(path, op, value), ctx)).toBe(expected);
  });
});

describe("templates in the value", () => {
  test.each<[Condition, boolean]>([
    [{ path: "$.steps.check.output.score", op: "gte", value: "{{env.THRESHOLD}}" }, true],
    [{ path: "$.steps.check.output.label", op: "in", value: "{{env.ALLOWED}}" }, true],
    [{ path: "$.steps.check.output.label", op: "eq", value: "{{input.s}}" }, false],
    [{ path: "$.input.s", op: "eq", value: "ban{{input.s}}" }, false],
    [{ path: "$.input.n", op: "in", value: ["{{input.n}}", 7] }, true],
    [{ path: "$.input.n", op: "eq", value: { $path: "$.input.list[0]" } }, false],
    [{ path: "$.input.list", op: "contains", value: { $path: "$.input.list[1]" } }, true],
  ])("%j → %s", (condition, expected) => {
    expect(evaluateCondition(condition, ctx)).toBe(expected);
  });

  it("renders a value with text around a template into a string", () => {
    const c: ExpressionContext = { ...ctx, input: { label: "n=5", n: 5, re: "ban" } };
    expect(evaluateCondition(leaf("$.input.label", "eq", "n={{input.n}}"), c)).toBe(true);
    expect(evaluateCondition(leaf("$.input.n", "eq", "{{input.n}}"), c)).toBe(true);
    expect(evaluateCondition(leaf("$.input.n", "eq", "{{input.n}} "), c)).toBe(false);
    expect(evaluateCondition(leaf("$.input.label", "matches", "^n={{input.n}}$"), c)).toBe(true);
  });

  it("fails when a template in the value has no value, even if the path matches nothing", () => {
    expect(() => evaluateCondition(leaf("$.input.missing", "eq", "{{env.NOPE}}"), ctx)).toThrow(
      UnresolvedVariableError,
    );
  });

  it("says where the failure is when given a location", () => {
    expect(() =>
      evaluateCondition(
        { all: [leaf("$.input.n", "eq", "{{steps.x.output}}")] },
        ctx,
        "steps[1].branches[0].when",
      ),
    ).toThrow('steps.x.output: "x" has not run (at steps[1].branches[0].when.all[0].value)');
    expect(() => evaluateCondition(leaf("$.input[", "exists"), ctx, "when")).toThrow(/\(at when\.path\)/);
  });

  it("ignores the value of exists", () => {
    expect(evaluateCondition(leaf("$.input.n", "exists", "{{env.NOPE}}"), ctx)).toBe(true);
  });
});

describe("all / any / not", () => {
  const yes = leaf("$.input.n", "eq", 5);
  const no = leaf("$.input.n", "eq", 6);
  test.each<[Condition, boolean]>([
    [{ all: [yes, yes] }, true],
    [{ all: [yes, no] }, false],
    [{ any: [no, yes] }, true],
    [{ any: [no, no] }, false],
    [{ not: yes }, false],
    [{ not: no }, true],
    [{ all: [yes, { any: [no, { not: no }] }] }, true],
    [{ not: { all: [yes, { not: yes }] } }, true],
  ])("%j → %s", (condition, expected) => {
    expect(evaluateCondition(condition, ctx)).toBe(expected);
  });

  it("stops at the first deciding condition", () => {
    const broken = leaf("$.input.n", "eq", "{{env.NOPE}}");
    expect(evaluateCondition({ any: [yes, broken] }, ctx)).toBe(true);
    expect(evaluateCondition({ all: [no, broken] }, ctx)).toBe(false);
    expect(() => evaluateCondition({ all: [yes, broken] }, ctx)).toThrow(UnresolvedVariableError);
  });
});

describe("errors", () => {
  it("rejects a bad JSONPath", () => {
    expect(() => evaluateCondition(leaf("$.input[", "eq", 1), ctx)).toThrow(ExpressionError);
    expect(() => evaluateCondition(leaf("input.n", "eq", 1), ctx)).toThrow(/expected "\$"/);
  });

  it("rejects a condition with neither op nor a combinator", () => {
    expect(() => evaluateCondition({ path: "$.input.n" }, ctx)).toThrow(/needs path and op/);
  });

  test.each<[TemplateValue, RegExp]>([
    ["(", /invalid regular expression/],
    ["a".repeat(513), /at most 512 characters/],
    [5, /needs a string pattern/],
  ])("rejects the matches pattern %j", (pattern, message) => {
    expect(() => evaluateCondition(leaf("$.input.s", "matches", pattern), ctx)).toThrow(message);
    expect(() => compilePattern(pattern)).toThrow(ExpressionError);
  });

  it("accepts a pattern of exactly 512 characters", () => {
    expect(compilePattern("a".repeat(512)).source).toHaveLength(512);
  });
});

describe("conditionReferences", () => {
  it("lists the variables of paths and values, nested conditions included", () => {
    const refs = conditionReferences({
      all: [
        { path: "$.steps.check.output.score", op: "gte", value: "{{env.THRESHOLD}}" },
        {
          any: [
            { path: "$.input.s", op: "exists" },
            { not: { path: "$..id", op: "eq", value: { $path: "$.steps.b.output" } } },
          ],
        },
      ],
    });
    expect(refs.map((r) => [r.root, r.stepId, r.raw])).toEqual([
      ["steps", "check", "$.steps.check.output.score"],
      ["env", undefined, "env.THRESHOLD"],
      ["input", undefined, "$.input.s"],
      ["steps", "b", "$.steps.b.output"],
    ]);
    expect(refs[0]?.segments).toEqual(["check", "output", "score"]);
  });

  it("keeps only the definite start of a path", () => {
    expect(conditionReferences(leaf("$.steps.check.output.items[*].id", "exists"))[0]?.segments).toEqual([
      "check",
      "output",
      "items",
    ]);
    expect(conditionReferences(leaf("$.steps[*].status", "exists"))).toEqual([
      { root: "steps", segments: [], raw: "$.steps[*].status" },
    ]);
  });

  test.each([
    ["$.input[", ExpressionError],
    ["$.nope.x", /unknown root "nope"/],
    ["$.steps.a.result", /only .output and .status/],
  ])("throws for %s", (path, error) => {
    expect(() => conditionReferences(leaf(path, "exists"))).toThrow(error);
  });

  it("throws for a bad template in a value", () => {
    expect(() => conditionReferences(leaf("$.input.n", "eq", "{{nope}}"))).toThrow(/unknown root/);
  });
});
