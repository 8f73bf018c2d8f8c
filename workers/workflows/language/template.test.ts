import { describe, expect, it, test } from "vitest";
import type { ExpressionContext } from "./context";
import { ExpressionError, UnresolvedVariableError } from "./errors";
import { renderString, resolveValue, templateReferences } from "./template";

const ctx: ExpressionContext = {
  input: {
    name: "Ada",
    count: 3,
    ratio: 0.5,
    active: true,
    nothing: null,
    tags: ["a", "b", "c"],
    user: { id: 7, "full name": "Ada Lovelace" },
  },
  steps: {
    fetch: { output: { items: [{ id: 1 }, { id: 2 }], total: 2 }, status: "succeeded" },
    "fetch-more": { output: "text", status: "succeeded" },
  },
  env: { API_BASE: "https://api.example.com", LIMIT: 10 },
};

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}

describe("resolveValue: a string that is exactly one template keeps the JSON type", () => {
  test.each([
    ["{{input.name}}", "Ada"],
    ["{{input.count}}", 3],
    ["{{input.ratio}}", 0.5],
    ["{{input.active}}", true],
    ["{{input.nothing}}", null],
    ["{{input.tags}}", ["a", "b", "c"]],
    ["{{input.user}}", { id: 7, "full name": "Ada Lovelace" }],
    ["{{ input.count }}", 3],
    ["{{\tinput.count\n}}", 3],
    ["{{input.tags[0]}}", "a"],
    ["{{input.tags[-1]}}", "c"],
    ['{{input.user["full name"]}}', "Ada Lovelace"],
    ["{{input.user['full name']}}", "Ada Lovelace"],
    ['{{ input.user[ "id" ] }}', 7],
    ["{{steps.fetch.output.items[1].id}}", 2],
    ["{{steps.fetch.status}}", "succeeded"],
    ["{{steps.fetch-more.output}}", "text"],
    ["{{env.LIMIT}}", 10],
    ["{{input}}", ctx.input],
  ])("%s", (template, expected) => {
    expect(resolveValue(template, ctx)).toEqual(expected);
  });
});

describe("resolveValue: templates inside text render into the string", () => {
  test.each([
    ["Hello {{input.name}}!", "Hello Ada!"],
    ["n={{input.count}}", "n=3"],
    ["r={{input.ratio}} a={{input.active}}", "r=0.5 a=true"],
    ["v={{input.nothing}}", "v=null"],
    ["tags={{input.tags}}", 'tags=["a","b","c"]'],
    ["user={{input.user}}", 'user={"id":7,"full name":"Ada Lovelace"}'],
    ["{{env.API_BASE}}/users/{{input.user.id}}", "https://api.example.com/users/7"],
    [" {{input.count}}", " 3"],
    ["{{input.count}}{{input.count}}", "33"],
    ["no templates", "no templates"],
    ["", ""],
    ['JSON stays: {"a": {"b": 1}}', 'JSON stays: {"a": {"b": 1}}'],
    ["single { and } are text", "single { and } are text"],
  ])("%s", (template, expected) => {
    expect(resolveValue(template, ctx)).toBe(expected);
  });

  it("renders the same way through renderString, even for a lone template", () => {
    expect(renderString("{{input.count}}", ctx)).toBe("3");
    expect(renderString("{{input.tags}}", ctx)).toBe('["a","b","c"]');
    expect(renderString("{{input.name}}", ctx)).toBe("Ada");
  });

  it("never resolves a value read from the context again", () => {
    const sneaky: ExpressionContext = { ...ctx, input: { text: "{{env.API_BASE}}" } };
    expect(resolveValue("{{input.text}}", sneaky)).toBe("{{env.API_BASE}}");
    expect(resolveValue("say {{input.text}}", sneaky)).toBe("say {{env.API_BASE}}");
  });
});

describe("resolveValue: deep values", () => {
  it("resolves arrays and objects, leaving keys and non-strings alone", () => {
    const value = {
      "{{input.name}}": "{{input.name}}",
      list: ["{{input.count}}", 1, false, null, { deep: "x{{input.count}}" }],
    };
    expect(resolveValue(value, ctx)).toEqual({
      "{{input.name}}": "Ada",
      list: [3, 1, false, null, { deep: "x3" }],
    });
  });

  it("does not change the value it was given", () => {
    const value = { a: ["{{input.count}}"] };
    resolveValue(value, ctx);
    expect(value).toEqual({ a: ["{{input.count}}"] });
  });
});

describe("resolveValue: $path", () => {
  test.each([
    ["$.input.name", "Ada"],
    ["$.input.nothing", null],
    ["$.steps.fetch.output.items[0]", { id: 1 }],
    ["$.steps.fetch.output.items[*].id", [1, 2]],
    ["$.input.tags[0:2]", ["a", "b"]],
    ["$..id", [7, 1, 2]],
    ["$.steps.fetch.output.items[?(@.id > 1)]", [{ id: 2 }]],
    ["$.steps.fetch.output.items[?(@.id > 5)]", []],
    ["$.input.missing[*]", []],
  ])("%s", (path, expected) => {
    expect(resolveValue({ $path: path }, ctx)).toEqual(expected);
  });

  it("is only an object with exactly that one key", () => {
    expect(() => resolveValue({ $path: "$.input.name", other: 1 }, ctx)).toThrow(/no other keys/);
    expect(resolveValue({ path: "$.input.name" }, ctx)).toEqual({ path: "$.input.name" });
  });

  it("needs a string", () => {
    expect(() => resolveValue({ $path: 1 }, ctx, "body")).toThrow(/must be a JSONPath string.*\(at body\)/);
  });

  it("fails a definite path that selects nothing", () => {
    const error = thrown(() => resolveValue({ x: { $path: "$.input.missing" } }, ctx, "steps[1].output"));
    expect(error).toBeInstanceOf(UnresolvedVariableError);
    expect((error as UnresolvedVariableError).location).toBe("steps[1].output.x");
    expect((error as Error).message).toBe("$.input.missing: selects nothing (at steps[1].output.x)");
  });

  it("reports bad JSONPath syntax with the location", () => {
    const error = thrown(() => resolveValue({ $path: "$.input[" }, ctx, "steps[0].output"));
    expect(error).toBeInstanceOf(ExpressionError);
    expect(error).not.toBeInstanceOf(UnresolvedVariableError);
    expect((error as ExpressionError).location).toBe("steps[0].output");
  });
});

describe("unresolved variables", () => {
  test.each([
    ["{{steps.nope.output}}", 'steps.nope.output: "nope" has not run'],
    ["{{steps.nope.status}}", 'steps.nope.status: "nope" has not run'],
    ["{{input.missing}}", 'input.missing: input has no key "missing"'],
    ["{{input.user.email}}", 'input.user.email: input.user has no key "email"'],
    ["{{input.tags[3]}}", "input.tags[3]: input.tags has 3 items, none at [3]"],
    ["{{input.tags[-4]}}", "input.tags[-4]: input.tags has 3 items, none at [-4]"],
    ["{{input.name.first}}", "input.name.first: input.name is a string, not an object"],
    ["{{input.user[0]}}", "input.user[0]: input.user is an object, not an array"],
    ["{{input.nothing.x}}", "input.nothing.x: input.nothing is null, not an object"],
    ["{{env.MISSING}}", 'env.MISSING: env has no key "MISSING"'],
    [
      "{{steps.fetch.output.items[0].name}}",
      'steps.fetch.output.items[0].name: steps.fetch.output.items[0] has no key "name"',
    ],
    ["{{input.constructor}}", 'input.constructor: input has no key "constructor"'],
    ["{{input.__proto__}}", 'input.__proto__: input has no key "__proto__"'],
  ])("%s", (template, message) => {
    for (const text of [template, `text around ${template}`]) {
      const error = thrown(() => resolveValue(text, ctx, "steps[2].arguments.url"));
      expect(error).toBeInstanceOf(UnresolvedVariableError);
      expect((error as Error).message).toBe(`${message} (at steps[2].arguments.url)`);
      expect((error as UnresolvedVariableError).location).toBe("steps[2].arguments.url");
    }
  });

  it("names the reference as written", () => {
    const error = thrown(() => renderString('x {{ input.user["nick"] }}', ctx)) as UnresolvedVariableError;
    expect(error.reference).toBe('input.user["nick"]');
    expect(error.location).toBeUndefined();
    expect(error.message).toBe('input.user["nick"]: input.user has no key "nick"');
  });

  it("treats a missing input as unset", () => {
    expect(() => resolveValue("{{input}}", { ...ctx, input: undefined })).toThrow(UnresolvedVariableError);
    expect(resolveValue("{{input}}", { ...ctx, input: null })).toBeNull();
  });

  it("locates a failure deep in a value", () => {
    const error = thrown(() =>
      resolveValue({ a: [{ "b c": "{{input.nope}}" }] }, ctx, "steps[0].arguments"),
    ) as ExpressionError;
    expect(error.location).toBe('steps[0].arguments.a[0]["b c"]');
  });
});

describe("syntax errors", () => {
  test.each([
    ["{{}}", /empty template/],
    ["{{   }}", /empty template/],
    ["{{input.name", /expected "}}" to close the template at the end/],
    ["{{input.name}", /expected "}}"/],
    ["a {{ input.name } b", /expected "}}"/],
    ["{{ {{input.name}} }}", /expected input, steps or env/],
    ["{{foo.bar}}", /foo.bar: unknown root "foo"/],
    ["{{ctx.input}}", /unknown root "ctx"/],
    ["{{input.}}", /expected a name after '.'/],
    ["{{input[}}", /expected an index or a quoted key/],
    ["{{input[1}}", /expected "]"/],
    ["{{input['a}}", /unterminated string/],
    ["{{input.name | upper}}", /expected "}}"/],
    ["{{input.name()}}", /expected "}}"/],
    ["{{steps}}x{{steps[0]}}", /steps\[0\]: write steps.<step id>/],
    ["{{steps.a.outputs}}", /a step has only .output and .status/],
    ["{{steps.a.status.x}}", /nothing can follow it/],
    ["{{input[1.5]}}", /expected "]"/],
  ])("%s", (template, message) => {
    const error = thrown(() => resolveValue(template, ctx, "steps[0].message"));
    expect(error).toBeInstanceOf(ExpressionError);
    expect(error).not.toBeInstanceOf(UnresolvedVariableError);
    expect((error as Error).message).toMatch(message);
    expect((error as ExpressionError).location).toBe("steps[0].message");
    expect(() => templateReferences(template)).toThrow(ExpressionError);
  });

  it("reports a syntax error even when an earlier reference would resolve", () => {
    expect(() => renderString("{{input.name}} {{input.name", ctx)).toThrow(/close the template/);
  });

  it("reads quoted keys with escapes", () => {
    const c: ExpressionContext = { ...ctx, input: { 'a"b': 1, "a'b": 2, "a\\b": 3, é: 4, "}}": 5 } };
    expect(resolveValue('{{input["a\\"b"]}}', c)).toBe(1);
    expect(resolveValue("{{input['a\\'b']}}", c)).toBe(2);
    expect(resolveValue('{{input["a\\\\b"]}}', c)).toBe(3);
    expect(resolveValue('{{input["\\u00e9"]}}', c)).toBe(4);
    expect(resolveValue('{{input["}}"]}}', c)).toBe(5);
  });
});

describe("templateReferences", () => {
  it("lists every reference in a value, templates and $path", () => {
    const refs = templateReferences({
      message: "Hi {{input.name}}, {{ steps.fetch.output.items[0].id }}",
      list: ["{{env.API_BASE}}", 3, null, { $path: "$.steps.other.output[*].id" }],
      plain: "nothing here",
    });
    expect(refs).toEqual([
      { root: "input", segments: ["name"], raw: "input.name" },
      {
        root: "steps",
        segments: ["fetch", "output", "items", 0, "id"],
        stepId: "fetch",
        raw: "steps.fetch.output.items[0].id",
      },
      { root: "env", segments: ["API_BASE"], raw: "env.API_BASE" },
      { root: "steps", segments: ["other", "output"], stepId: "other", raw: "$.steps.other.output[*].id" },
    ]);
  });

  it("gives no reference for a JSONPath that does not start with a name", () => {
    expect(templateReferences({ $path: "$..id" })).toEqual([]);
    expect(templateReferences({ $path: "$" })).toEqual([]);
    expect(templateReferences({ $path: "$.*" })).toEqual([]);
  });

  it("rejects a JSONPath whose root cannot exist", () => {
    expect(() => templateReferences({ $path: "$.inputs.x" })).toThrow(/unknown root "inputs"/);
    expect(() => templateReferences({ $path: "$[0]" })).toThrow(/not an index/);
    expect(() => templateReferences({ $path: "$.input[" })).toThrow(ExpressionError);
  });

  it("accepts non-template values", () => {
    expect(templateReferences(42)).toEqual([]);
    expect(templateReferences(null)).toEqual([]);
    expect(templateReferences("{ not a template }")).toEqual([]);
  });
});
