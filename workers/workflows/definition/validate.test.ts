import { describe, expect, it, test } from "vitest";
import { type DefinitionProblem, type ValidateOptions, validateDefinition } from "./validate";

const AGENT_ID = "0193a1b2-0000-7000-8000-000000000001";
const opts: ValidateOptions = { maxSteps: 50, maxParallelBranches: 5 };

function problemsOf(raw: unknown, options: ValidateOptions = opts): DefinitionProblem[] {
  const result = validateDefinition(raw, options);
  return result.ok ? [] : result.problems;
}

/** A transform step: the smallest step there is. */
function t(id: string, output: unknown = 1, extra: Record<string, unknown> = {}) {
  return { id, type: "transform", output, ...extra };
}

function parallel(id: string, branches: [string, unknown[]][], extra: Record<string, unknown> = {}) {
  return {
    id,
    type: "parallel",
    branches: branches.map(([branchId, steps]) => ({ id: branchId, steps })),
    ...extra,
  };
}

const bigDefinition = {
  timeoutSeconds: 3600,
  steps: [
    {
      id: "classify",
      type: "agent",
      agentId: AGENT_ID,
      message: "Classify this ticket: {{input.ticket.body}} (from {{input.ticket.email}})",
      retry: { maxAttempts: 3 },
    },
    {
      id: "route",
      type: "conditional",
      branches: [
        {
          when: {
            all: [
              { path: "$.steps.classify.output.category", op: "eq", value: "billing" },
              { path: "$.steps.classify.output.confidence", op: "gte", value: "{{env.MIN_CONFIDENCE}}" },
            ],
          },
          next: "lookup",
        },
        {
          when: { path: "$.steps.classify.output.category", op: "matches", value: "^(spam|junk)$" },
          next: "end",
        },
        {
          when: { not: { path: "$.input.ticket.priority", op: "in", value: ["low", "normal"] } },
          next: "escalate",
        },
      ],
      default: "reply",
    },
    {
      id: "lookup",
      type: "parallel",
      wait: "n_of_m",
      n: 2,
      failFast: false,
      branches: [
        {
          id: "crm",
          steps: [
            {
              id: "crm-fetch",
              type: "http",
              method: "POST",
              url: "{{env.CRM_URL}}/customers/search",
              headers: { Authorization: "Bearer {{env.CRM_TOKEN}}", "X-Ticket": "{{input.ticket.id}}" },
              body: { email: "{{input.ticket.email}}", fields: ["plan", "mrr"] },
            },
            t("crm-shape", {
              plan: "{{steps.crm-fetch.output.body.plan}}",
              from: "{{steps.classify.output}}",
            }),
          ],
        },
        {
          id: "invoices",
          steps: [
            {
              id: "invoices-fetch",
              type: "mcp_tool",
              server: "database",
              tool: "query",
              arguments: {
                sql: "select * from invoices where email = $1",
                params: ["{{input.ticket.email}}"],
              },
            },
          ],
        },
        {
          id: "history",
          steps: [
            {
              id: "history-fetch",
              type: "http",
              url: "https://history.example.com/v1/tickets?email={{input.ticket.email}}",
            },
          ],
        },
      ],
      next: "reply",
    },
    {
      id: "escalate",
      type: "wait_for_approval",
      message: "Ticket {{input.ticket.id}} looks urgent ({{steps.classify.output.category}}). Escalate?",
      schema: { type: "object", properties: { escalate: { type: "boolean" } } },
      expiresInSeconds: 3600,
      onExpiry: "continue",
      expiryOutput: { escalate: false, ticket: "{{input.ticket.id}}" },
    },
    {
      id: "reply",
      type: "agent",
      agentId: AGENT_ID,
      agentVersion: 2,
      message:
        "Reply to {{input.ticket.email}}. Plan: {{steps.crm-shape.output.plan}}; lookup: {{steps.lookup.output}}",
    },
  ],
  output: {
    category: "{{steps.classify.output.category}}",
    reply: "{{steps.reply.output}}",
    ids: { $path: "$.steps.invoices-fetch.output.rows[*].id" },
  },
};

describe("a valid definition", () => {
  it("passes, with the language's defaults filled in", () => {
    const result = validateDefinition(bigDefinition, {
      ...opts,
      inputSchema: { type: "object", properties: { ticket: { type: "object" } } },
    });
    expect(result).toMatchObject({ ok: true });
    if (!result.ok) return;
    const [classify, , lookup, escalate, reply] = result.definition.steps;
    expect(classify).toMatchObject({
      id: "classify",
      retry: { maxAttempts: 3, initialDelayMs: 1000, retryOn: ["any"] },
    });
    expect(lookup).toMatchObject({ type: "parallel", wait: "n_of_m", n: 2, failFast: false });
    if (lookup?.type !== "parallel") throw new Error("expected the parallel step");
    expect(lookup.branches[0]?.steps[0]).toMatchObject({ method: "POST", maxResponseBytes: 262_144 });
    expect(lookup.branches[2]?.steps[0]).toMatchObject({ method: "GET", headers: {} });
    expect(escalate).toMatchObject({ onExpiry: "continue" });
    expect(reply).toMatchObject({ agentVersion: 2 });
  });

  it("passes with the smallest definition", () => {
    expect(validateDefinition({ steps: [t("only")] }, opts)).toEqual({
      ok: true,
      definition: { steps: [{ id: "only", type: "transform", output: 1 }] },
    });
  });

  it("accepts flows that jump forward and loop-free conditionals", () => {
    expect(
      problemsOf({
        steps: [
          t("a", 1, { next: "c" }),
          t("b", "{{steps.a.output}}", { next: "end" }),
          {
            id: "c",
            type: "conditional",
            branches: [{ when: { path: "$.steps.a.output", op: "eq", value: 1 }, next: "b" }],
            next: "d",
          },
          t("d", "{{steps.c.output}}"),
        ],
      }),
    ).toEqual([]);
  });
});

describe("shape", () => {
  test.each<[string, unknown, DefinitionProblem[]]>([
    ["not an object", 5, [{ path: "(root)", message: "Invalid input: expected object, received number" }]],
    ["no steps", {}, [{ path: "steps", message: "required" }]],
    ["empty steps", { steps: [] }, [{ path: "steps", message: expect.stringMatching(/>=1 items/) }]],
    [
      "an unknown field",
      { steps: [t("a")], extra: 1, more: 2 },
      [
        { path: "extra", message: "unknown field" },
        { path: "more", message: "unknown field" },
      ],
    ],
    [
      "an unknown field in a step",
      { steps: [t("a", 1, { foo: 1 })] },
      [{ path: "steps[0].foo", message: "unknown field" }],
    ],
    [
      "an unknown step type",
      { steps: [{ id: "a", type: "shell" }] },
      [{ path: "steps[0].type", message: expect.stringMatching(/Invalid discriminator value/) }],
    ],
    [
      "a missing template value",
      { steps: [{ id: "a", type: "transform" }] },
      [{ path: "steps[0].output", message: "required" }],
    ],
    [
      "a missing string",
      { steps: [{ id: "a", type: "http" }] },
      [{ path: "steps[0].url", message: "required" }],
    ],
    [
      "a bad step id",
      { steps: [t("1abc")] },
      [{ path: "steps[0].id", message: "a letter, then letters, digits, _ or -; at most 64" }],
    ],
    [
      "a bad agent id",
      { steps: [{ id: "a", type: "agent", agentId: "nope", message: "hi" }] },
      [{ path: "steps[0].agentId", message: "Invalid UUID" }],
    ],
    [
      "a header that is not a string",
      { steps: [{ id: "a", type: "http", url: "https://x.test", headers: { "X-N": 1 } }] },
      [{ path: "steps[0].headers.X-N", message: "Invalid input: expected string, received number" }],
    ],
    [
      "a malformed condition",
      { steps: [{ id: "c", type: "conditional", branches: [{ when: { path: "$.input.x" }, next: "end" }] }] },
      [
        {
          path: "steps[0].branches[0].when",
          message: "a condition is exactly one of: {path, op, value}, all, any, not",
        },
      ],
    ],
    [
      "an unknown operator deep in a condition",
      {
        steps: [
          {
            id: "c",
            type: "conditional",
            branches: [{ when: { any: [{ path: "$.input.x", op: "like", value: 1 }] }, next: "end" }],
          },
        ],
      },
      [{ path: "steps[0].branches[0].when.any[0].op", message: expect.stringMatching(/Invalid option/) }],
    ],
    [
      "an empty next deep in a branch",
      { steps: [parallel("p", [["b", [t("x"), t("y", 1, { next: "" })]]])] },
      [{ path: "steps[0].branches[0].steps[1].next", message: expect.stringMatching(/>=1 characters/) }],
    ],
  ])("%s", (_label, raw, expected) => {
    expect(problemsOf(raw)).toEqual(expected);
  });

  it("reports every shape problem at once", () => {
    const problems = problemsOf({
      steps: [
        t("a", 1, { foo: 1 }),
        { id: "b", type: "http" },
        { id: "c", type: "agent", agentId: "x", message: "" },
      ],
    });
    expect(problems.map((p) => p.path)).toEqual([
      "steps[0].foo",
      "steps[1].url",
      "steps[2].agentId",
      "steps[2].message",
    ]);
  });

  describe("parallel n", () => {
    test.each<[string, Record<string, unknown>, string]>([
      ["n_of_m without n", { wait: "n_of_m" }, "`n` is required with wait n_of_m and only then"],
      ["n without n_of_m", { n: 1 }, "`n` is required with wait n_of_m and only then"],
      ["n with wait any", { wait: "any", n: 1 }, "`n` is required with wait n_of_m and only then"],
      ["n above the branch count", { wait: "n_of_m", n: 3 }, "`n` cannot exceed the number of branches"],
      ["n of zero", { wait: "n_of_m", n: 0 }, "Too small: expected number to be >=1"],
    ])("%s", (_label, extra, message) => {
      const raw = {
        steps: [
          parallel(
            "p",
            [
              ["a", [t("x")]],
              ["b", [t("y")]],
            ],
            extra,
          ),
        ],
      };
      expect(problemsOf(raw)).toEqual([{ path: "steps[0].n", message }]);
    });

    it("accepts n up to the branch count", () => {
      const raw = {
        steps: [
          parallel(
            "p",
            [
              ["a", [t("x")]],
              ["b", [t("y")]],
            ],
            { wait: "n_of_m", n: 2 },
          ),
        ],
      };
      expect(problemsOf(raw)).toEqual([]);
    });
  });
});

describe("step ids", () => {
  it("reports a duplicate id at the top level", () => {
    expect(problemsOf({ steps: [t("a"), t("b"), t("a")] })).toEqual([
      { path: "steps[2].id", message: 'duplicate step id "a"; also at steps[0]' },
    ]);
  });

  it("reports a duplicate id between a branch and the top level, and between branches", () => {
    expect(
      problemsOf({
        steps: [
          t("a"),
          parallel("p", [
            ["x", [t("a")]],
            ["y", [t("b")]],
            ["z", [t("b")]],
          ]),
        ],
      }),
    ).toEqual([
      { path: "steps[1].branches[0].steps[0].id", message: 'duplicate step id "a"; also at steps[0]' },
      {
        path: "steps[1].branches[2].steps[0].id",
        message: 'duplicate step id "b"; also at steps[1].branches[1].steps[0]',
      },
    ]);
  });

  it("reports a duplicate branch id within one parallel step only", () => {
    expect(
      problemsOf({
        steps: [
          parallel("p", [
            ["x", [t("a")]],
            ["x", [t("b")]],
          ]),
          parallel("q", [["x", [t("c")]]]),
        ],
      }),
    ).toEqual([{ path: "steps[0].branches[1].id", message: 'duplicate branch id "x"' }]);
  });

  it('reserves "end"', () => {
    expect(problemsOf({ steps: [t("end")] })).toEqual([
      { path: "steps[0].id", message: '"end" is reserved: next: "end" finishes the flow' },
    ]);
  });
});

describe("next, branches[].next and default", () => {
  it("reports a step that does not exist", () => {
    expect(
      problemsOf({
        steps: [
          t("a", 1, { next: "nope" }),
          {
            id: "c",
            type: "conditional",
            branches: [{ when: { path: "$.input.x", op: "exists" }, next: "ghost" }],
            default: "phantom",
          },
        ],
      }),
    ).toEqual([
      { path: "steps[0].next", message: 'no step "nope"; name a step in the same list, or "end"' },
      {
        path: "steps[1].branches[0].next",
        message: 'no step "ghost"; name a step in the same list, or "end"',
      },
      { path: "steps[1].default", message: 'no step "phantom"; name a step in the same list, or "end"' },
    ]);
  });

  it("reports a step in another list", () => {
    expect(
      problemsOf({
        steps: [
          t("a", 1, { next: "inner" }),
          parallel("p", [
            ["x", [t("inner", 1, { next: "a" })]],
            ["y", [t("other", 1, { next: "inner" })]],
          ]),
        ],
      }),
    ).toEqual([
      {
        path: "steps[0].next",
        message:
          '"inner" is at steps[1].branches[0].steps[0]; next can only name a step in the same list (the top level or the same branch), or "end"',
      },
      {
        path: "steps[1].branches[0].steps[0].next",
        message:
          '"a" is at steps[0]; next can only name a step in the same list (the top level or the same branch), or "end"',
      },
      {
        path: "steps[1].branches[1].steps[0].next",
        message:
          '"inner" is at steps[1].branches[0].steps[0]; next can only name a step in the same list (the top level or the same branch), or "end"',
      },
    ]);
  });

  it('accepts "end" and steps of the same branch', () => {
    expect(
      problemsOf({
        steps: [parallel("p", [["x", [t("a", 1, { next: "c" }), t("b"), t("c", 1, { next: "end" })]]])],
      }),
    ).toEqual([]);
  });

  it("reports a conditional's next that its default makes unused", () => {
    expect(
      problemsOf({
        steps: [
          {
            id: "c",
            type: "conditional",
            branches: [{ when: { path: "$.input.x", op: "exists" }, next: "end" }],
            default: "b",
            next: "b",
          },
          t("b"),
        ],
      }),
    ).toEqual([
      {
        path: "steps[0].next",
        message: "never used: when no branch holds, a conditional goes to its default",
      },
    ]);
  });
});

describe("cycles", () => {
  test.each<[string, unknown[], DefinitionProblem[]]>([
    [
      "two steps",
      [t("a"), t("b", 1, { next: "a" })],
      [{ path: "steps[1].next", message: "cycle: a -> b -> a" }],
    ],
    ["a step to itself", [t("a", 1, { next: "a" })], [{ path: "steps[0].next", message: "cycle: a -> a" }]],
    [
      "three steps",
      [t("a", 1, { next: "c" }), t("b", 1, { next: "a" }), t("c", 1, { next: "b" })],
      [{ path: "steps[1].next", message: "cycle: a -> c -> b -> a" }],
    ],
    [
      "through the following step",
      [t("a", 1, { next: "c" }), t("b"), t("c", 1, { next: "b" })],
      [{ path: "steps[1]", message: "cycle: c -> b -> c" }],
    ],
    [
      "through a conditional branch",
      [
        t("poll"),
        {
          id: "done",
          type: "conditional",
          branches: [{ when: { path: "$.steps.poll.output", op: "eq", value: false }, next: "poll" }],
        },
      ],
      [{ path: "steps[1].branches[0].next", message: "cycle: poll -> done -> poll" }],
    ],
    [
      "through a conditional default",
      [
        t("poll"),
        {
          id: "done",
          type: "conditional",
          branches: [{ when: { path: "$.steps.poll.output", op: "eq", value: true }, next: "end" }],
          default: "poll",
        },
      ],
      [{ path: "steps[1].default", message: "cycle: poll -> done -> poll" }],
    ],
    [
      "inside a branch",
      [parallel("p", [["x", [t("a"), t("b", 1, { next: "a" })]]])],
      [{ path: "steps[0].branches[0].steps[1].next", message: "cycle: a -> b -> a" }],
    ],
  ])("%s", (_label, steps, expected) => {
    expect(problemsOf({ steps })).toEqual(expected);
  });

  it("reports each cycle once", () => {
    const problems = problemsOf({ steps: [t("a"), t("b", 1, { next: "a" }), t("c", 1, { next: "c" })] });
    expect(problems.map((p) => p.message)).toEqual(["cycle: a -> b -> a", "cycle: c -> c"]);
  });
});

describe("limits", () => {
  it("counts nested steps against maxSteps", () => {
    const raw = {
      steps: [
        t("a"),
        parallel("p", [
          ["x", [t("b"), t("c")]],
          ["y", [t("d")]],
        ]),
      ],
    };
    expect(problemsOf(raw, { maxSteps: 5, maxParallelBranches: 5 })).toEqual([]);
    expect(problemsOf(raw, { maxSteps: 4, maxParallelBranches: 5 })).toEqual([
      { path: "steps", message: "5 steps, branches included; the limit is 4" },
    ]);
  });

  it("limits the branches of each parallel step", () => {
    const raw = {
      steps: [
        parallel("p", [
          ["x", [t("a")]],
          ["y", [t("b")]],
          ["z", [t("c", 1)]],
        ]),
        parallel("q", [
          ["x", [t("d")]],
          ["y", [t("e")]],
        ]),
      ],
    };
    expect(problemsOf(raw, { maxSteps: 50, maxParallelBranches: 2 })).toEqual([
      { path: "steps[0].branches", message: "3 branches; the limit is 2" },
    ]);
  });
});

describe("templates and JSONPaths parse", () => {
  const http = (extra: Record<string, unknown>) => ({
    id: "s",
    type: "http",
    url: "https://x.test",
    ...extra,
  });
  test.each<[string, unknown, string]>([
    [
      "agent message",
      { id: "s", type: "agent", agentId: AGENT_ID, message: "hi {{input.x" },
      "steps[1].message",
    ],
    ["http url", http({ url: "https://x.test/{{}}" }), "steps[1].url"],
    ["http header", http({ headers: { "X-Key": "{{ env.KEY | secret }}" } }), "steps[1].headers.X-Key"],
    ["http body", http({ method: "POST", body: { a: [1, "{{foo.bar}}"] } }), "steps[1].body.a[1]"],
    ["http body $path", http({ method: "POST", body: { a: { $path: "$.input[" } } }), "steps[1].body.a"],
    [
      "tool arguments",
      { id: "s", type: "mcp_tool", server: "calculator", tool: "add", arguments: { "a b": "{{input.}}" } },
      'steps[1].arguments["a b"]',
    ],
    ["transform output", t("s", { x: "{{steps}}x{{steps.a.outputs}}" }), "steps[1].output.x"],
    ["transform $path with extra keys", t("s", { $path: "$.input.a", b: 1 }), "steps[1].output"],
    [
      "approval message",
      { id: "s", type: "wait_for_approval", message: "ok? {{ input.a }" },
      "steps[1].message",
    ],
    [
      "approval expiryOutput",
      { id: "s", type: "wait_for_approval", onExpiry: "continue", expiryOutput: ["{{input[x]}}"] },
      "steps[1].expiryOutput[0]",
    ],
    [
      "conditional value",
      {
        id: "s",
        type: "conditional",
        branches: [{ when: { path: "$.input.a", op: "eq", value: "{{ input.a" }, next: "end" }],
      },
      "steps[1].branches[0].when.value",
    ],
    [
      "conditional path",
      {
        id: "s",
        type: "conditional",
        branches: [
          { when: { path: "$.input.a", op: "exists" }, next: "end" },
          { when: { not: { all: [{ path: "$.input.a[?(@.b =)]", op: "exists" }] } }, next: "end" },
        ],
      },
      "steps[1].branches[1].when.not.all[0].path",
    ],
    [
      "conditional path with an unknown root",
      {
        id: "s",
        type: "conditional",
        branches: [{ when: { path: "$.inputs.a", op: "exists" }, next: "end" }],
      },
      "steps[1].branches[0].when.path",
    ],
  ])("%s", (_label, step, path) => {
    const problems = problemsOf({ steps: [t("a"), step] });
    expect(problems).toHaveLength(1);
    expect(problems[0]?.path).toBe(path);
    expect(problems[0]?.message).not.toMatch(/\(at /);
  });

  it("checks the definition's output", () => {
    expect(problemsOf({ steps: [t("a")], output: { x: "{{ env }", y: { $path: "$.." } } })).toEqual([
      { path: "output.x", message: expect.stringMatching(/expected "}}"/) },
      { path: "output.y", message: expect.stringMatching(/expected a name or '\*'/) },
    ]);
  });
});

describe("step references", () => {
  function refProblems(steps: unknown[], output?: unknown): string[] {
    return problemsOf(output === undefined ? { steps } : { steps, output }).map(
      (p) => `${p.path}: ${p.message}`,
    );
  }

  it("reports an unknown step", () => {
    expect(refProblems([t("a", "{{steps.nope.output}}")])).toEqual([
      'steps[0].output: steps.nope.output: unknown step "nope"',
    ]);
  });

  it("reports a step that runs later", () => {
    expect(refProblems([t("a", { v: "{{steps.b.output}}" }), t("b")])).toEqual([
      'steps[0].output.v: steps.b.output: "b" runs after "a"',
    ]);
  });

  it("reports a step's own output", () => {
    expect(refProblems([t("a", "{{steps.a.status}}")])).toEqual([
      "steps[0].output: steps.a.status: a step cannot read its own output",
    ]);
  });

  it("reports a step on another path of a conditional", () => {
    expect(
      refProblems([
        {
          id: "c",
          type: "conditional",
          branches: [{ when: { path: "$.input.x", op: "exists" }, next: "yes" }],
          default: "no",
        },
        t("yes", 1, { next: "end" }),
        t("no", "{{steps.yes.output}}"),
      ]),
    ).toEqual(['steps[2].output: steps.yes.output: "yes" is not on any path to "no"']);
  });

  it("reports steps of a sibling branch and the enclosing parallel step", () => {
    expect(
      refProblems([
        parallel("p", [
          ["x", [t("a")]],
          ["y", [t("b", { sib: "{{steps.a.output}}", par: "{{steps.p.output}}" })]],
        ]),
      ]),
    ).toEqual([
      'steps[0].branches[1].steps[0].output.sib: steps.a.output: "a" runs in another branch of "p"',
      'steps[0].branches[1].steps[0].output.par: steps.p.output: "p" is still running while the steps in its branches run',
    ]);
  });

  it("reports a step after the parallel step, from inside a branch", () => {
    expect(refProblems([parallel("p", [["x", [t("a", "{{steps.after.output}}")]]]), t("after")])).toEqual([
      'steps[0].branches[0].steps[0].output: steps.after.output: "after" runs after "p" (which holds "a")',
    ]);
  });

  it("accepts earlier steps in the branch, steps before the parallel step, and branches after it", () => {
    expect(
      refProblems([
        t("first"),
        parallel("p", [
          [
            "x",
            [
              t("a", "{{steps.first.output}}"),
              parallel("q", [["inner", [t("deep", ["{{steps.a.output}}", "{{steps.first.output}}"])]]]),
              t("b", ["{{steps.a.output}}", "{{steps.deep.output}}", "{{steps.q.output}}"]),
            ],
          ],
          ["y", [t("c", "{{steps.first.status}}")]],
        ]),
        t("after", [
          "{{steps.a.output}}",
          "{{steps.deep.output}}",
          "{{steps.c.output}}",
          "{{steps.p.output}}",
        ]),
      ]),
    ).toEqual([]);
  });

  it("checks references in conditions, paths included", () => {
    expect(
      refProblems([
        {
          id: "c",
          type: "conditional",
          branches: [
            {
              when: {
                any: [
                  { path: "$.steps.later.output.ok", op: "eq", value: true },
                  { path: "$.input.x", op: "eq", value: "{{steps.ghost.output}}" },
                  { path: "$.steps[*].status", op: "exists" },
                ],
              },
              next: "end",
            },
          ],
        },
        t("later"),
      ]),
    ).toEqual([
      'steps[0].branches[0].when.any[0].path: $.steps.later.output.ok: "later" runs after "c"',
      'steps[0].branches[0].when.any[1].value: steps.ghost.output: unknown step "ghost"',
    ]);
  });

  it("checks references in $path selections", () => {
    expect(refProblems([t("a", { $path: "$.steps.b.output[*]" }), t("b")])).toEqual([
      'steps[0].output: $.steps.b.output[*]: "b" runs after "a"',
    ]);
  });

  it("lets the definition's output read any step that exists", () => {
    expect(
      refProblems([parallel("p", [["x", [t("a")]]]), t("b")], {
        a: "{{steps.a.output}}",
        p: { $path: "$.steps.p.output" },
        nope: "{{steps.nope.output}}",
      }),
    ).toEqual(['output.nope: steps.nope.output: unknown step "nope"']);
  });

  it("reports each problem where it is, all of them", () => {
    expect(
      refProblems([
        {
          id: "h",
          type: "http",
          url: "{{env.BASE}}/{{steps.x.output}}",
          headers: { A: "{{steps.h.output}}" },
          body: ["{{steps.y.output}}"],
        },
        t("y"),
      ]),
    ).toEqual([
      'steps[0].url: steps.x.output: unknown step "x"',
      "steps[0].headers.A: steps.h.output: a step cannot read its own output",
      'steps[0].body[0]: steps.y.output: "y" runs after "h"',
    ]);
  });
});

describe("input schema", () => {
  const steps = [t("a", { one: "{{input.name}}", two: "{{input.nmae}}", three: { $path: "$.input.age" } })];
  const schema = { type: "object", properties: { name: { type: "string" }, age: { type: "number" } } };

  it("reports input names the schema does not list", () => {
    expect(problemsOf({ steps }, { ...opts, inputSchema: schema })).toEqual([
      { path: "steps[0].output.two", message: "input.nmae: input.nmae is not in the input schema" },
    ]);
    expect(
      problemsOf(
        {
          steps: [
            {
              id: "c",
              type: "conditional",
              branches: [{ when: { path: "$.input.x", op: "exists" }, next: "end" }],
            },
          ],
        },
        { ...opts, inputSchema: schema },
      ),
    ).toEqual([
      { path: "steps[0].branches[0].when.path", message: "$.input.x: input.x is not in the input schema" },
    ]);
  });

  test.each<[string, Record<string, unknown> | null | undefined]>([
    ["no schema", undefined],
    ["a null schema", null],
    ["a schema without properties", { type: "object" }],
    ["a schema that allows more", { ...schema, additionalProperties: true }],
    ["a schema that describes more", { ...schema, additionalProperties: { type: "string" } }],
  ])("checks nothing with %s", (_label, inputSchema) => {
    expect(problemsOf({ steps }, { ...opts, inputSchema })).toEqual([]);
  });

  it("checks with additionalProperties false", () => {
    expect(
      problemsOf({ steps }, { ...opts, inputSchema: { ...schema, additionalProperties: false } }),
    ).toHaveLength(1);
  });
});

describe("condition operands", () => {
  function whenProblems(when: unknown): DefinitionProblem[] {
    return problemsOf({ steps: [{ id: "c", type: "conditional", branches: [{ when, next: "end" }] }] });
  }
  const at = "steps[0].branches[0].when";

  test.each<[string, unknown, DefinitionProblem[]]>([
    [
      "an invalid regex",
      { path: "$.input.s", op: "matches", value: "([a-z]" },
      [{ path: `${at}.value`, message: expect.stringMatching(/^invalid regular expression/) }],
    ],
    [
      "a regex too long",
      { path: "$.input.s", op: "matches", value: "a".repeat(513) },
      [{ path: `${at}.value`, message: "a matches pattern is at most 512 characters" }],
    ],
    [
      "a pattern that is not a string",
      { path: "$.input.s", op: "matches", value: 5 },
      [{ path: `${at}.value`, message: "matches needs a string pattern" }],
    ],
    ["a templated pattern", { path: "$.input.s", op: "matches", value: "^{{input.prefix}}(" }, []],
    ["a $path pattern", { path: "$.input.s", op: "matches", value: { $path: "$.input.p" } }, []],
    ["a valid regex", { path: "$.input.s", op: "matches", value: "^\\d{3}-[a-z]+$" }, []],
    [
      "in with a number",
      { path: "$.input.s", op: "in", value: 5 },
      [{ path: `${at}.value`, message: "in needs an array (or a string to find a substring in)" }],
    ],
    ["in with an array", { path: "$.input.s", op: "in", value: [1, 2] }, []],
    ["in with a template", { path: "$.input.s", op: "in", value: "{{input.list}}" }, []],
    [
      "an operator without a value",
      { path: "$.input.s", op: "eq" },
      [{ path: `${at}.value`, message: "eq needs a value" }],
    ],
    [
      "exists with a value",
      { path: "$.input.s", op: "exists", value: 1 },
      [{ path: `${at}.value`, message: "exists takes no value" }],
    ],
    [
      "path beside all",
      { all: [{ path: "$.input.s", op: "exists" }], path: "$.input.t" },
      [{ path: at, message: "path and value go with op, not with all, any or not" }],
    ],
    ["null as a value", { path: "$.input.s", op: "eq", value: null }, []],
  ])("%s", (_label, when, expected) => {
    expect(whenProblems(when)).toEqual(expected);
  });
});

describe("http url", () => {
  test.each<[string, boolean]>([
    ["https://api.example.com/v1/x?y=1", true],
    ["http://localhost:8080", true],
    ["{{env.BASE}}/v1/x", true],
    ["https://{{env.HOST}}/x", true],
    ["/v1/x", false],
    ["api.example.com/x", false],
    ["ftp://files.example.com/x", false],
    ["javascript:alert(1)", false],
    ["file:///etc/passwd", false],
  ])("%s", (url, ok) => {
    const problems = problemsOf({ steps: [{ id: "h", type: "http", url }] });
    expect(problems).toEqual(
      ok ? [] : [{ path: "steps[0].url", message: "an absolute http:// or https:// URL (or a template)" }],
    );
  });
});

it("reports problems of every kind in one pass", () => {
  const problems = problemsOf(
    {
      steps: [
        t("a", "{{steps.z.output}}"),
        t("a"),
        t("b", 1, { next: "nowhere" }),
        { id: "h", type: "http", url: "relative/path" },
        parallel("p", [
          ["x", [t("c")]],
          ["y", [t("d", 1, { next: "d" })]],
        ]),
      ],
      output: "{{ bad }}",
    },
    { maxSteps: 5, maxParallelBranches: 1, inputSchema: null },
  );
  expect(problems.map((p) => p.path)).toEqual([
    "steps[1].id",
    "steps[4].branches",
    "steps",
    "steps[2].next",
    "steps[4].branches[1].steps[0].next",
    "steps[0].output",
    "steps[3].url",
    "output",
  ]);
});
