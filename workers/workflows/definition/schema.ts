import { z } from "@hono/zod-openapi";

/**
 * The workflow definition language, as stored in `workflows.definition` and pinned by each
 * `workflow_versions` row. The shape is checked here; references, cycles and expressions are
 * checked by `validateDefinition` (./validate.ts), which the API runs on every save.
 *
 * Flow: the top-level `steps` run in array order unless a step names its `next` (a step id,
 * or "end"); a conditional step picks its successor; a parallel step runs each branch (its own
 * ordered list of steps) and continues when its wait strategy is met. Step ids are unique in
 * the whole definition, branches included, so `{{steps.<id>.output}}` is never ambiguous.
 *
 * Values: any string may hold templates: `{{input.x}}`, `{{steps.<id>.output.y}}`,
 * `{{env.NAME}}` (the tenant's named settings). A string that is exactly one template keeps
 * the value's JSON type; otherwise values are rendered into the string. `{"$path": "$.steps.a.output.items[*].id"}`
 * selects with JSONPath. An unresolved variable fails the step; it never becomes "".
 */

export const STEP_TYPES = [
  "agent",
  "mcp_tool",
  "http",
  "transform",
  "conditional",
  "parallel",
  "wait_for_approval",
] as const;
export type StepType = (typeof STEP_TYPES)[number];

export const CONDITION_OPERATORS = [
  "eq",
  "ne",
  "gt",
  "gte",
  "lt",
  "lte",
  "in",
  "contains",
  "exists",
  "matches",
] as const;
export type ConditionOperator = (typeof CONDITION_OPERATORS)[number];

/** Kinds of failure a retry policy can name; `any` retries every retryable failure. */
export const RETRYABLE_ERRORS = [
  "timeout",
  "network",
  "http_5xx",
  "rate_limited",
  "agent_failed",
  "tool_failed",
  "any",
] as const;
export type RetryableError = (typeof RETRYABLE_ERRORS)[number];

const STEP_ID = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
export const stepId = z.string().regex(STEP_ID, "a letter, then letters, digits, _ or -; at most 64");
/** A step id, or "end" to finish the flow (or the branch) here. */
const nextRef = z.string().min(1).max(64);

/** Any JSON value; strings inside may hold templates. */
export type TemplateValue =
  | string
  | number
  | boolean
  | null
  | TemplateValue[]
  | { [key: string]: TemplateValue };
const templateValue: z.ZodType<TemplateValue> = z.lazy(() =>
  z.union([
    z.string(),
    z.number(),
    z.boolean(),
    z.null(),
    z.array(templateValue),
    z.record(z.string(), templateValue),
  ]),
);

export const retryPolicy = z
  .object({
    maxAttempts: z.number().int().min(1).max(10).default(1),
    initialDelayMs: z.number().int().min(0).max(3_600_000).default(1000),
    multiplier: z.number().min(1).max(10).default(2),
    maxDelayMs: z.number().int().min(0).max(86_400_000).default(300_000),
    /** Fraction of each delay drawn at random (0 = none), so retries of many executions spread out. */
    jitter: z.number().min(0).max(1).default(0.2),
    retryOn: z.array(z.enum(RETRYABLE_ERRORS)).min(1).default(["any"]),
  })
  .strict();
export type RetryPolicy = z.infer<typeof retryPolicy>;

export interface Condition {
  /** JSONPath into the context (`$.input...`, `$.steps.<id>.output...`, `$.env...`). */
  path?: string;
  op?: ConditionOperator;
  /** The operand; may be a template. Not used by `exists`. */
  value?: TemplateValue;
  all?: Condition[];
  any?: Condition[];
  not?: Condition;
}
export const condition: z.ZodType<Condition> = z.lazy(() =>
  z
    .object({
      path: z.string().min(1).max(512).optional(),
      op: z.enum(CONDITION_OPERATORS).optional(),
      value: templateValue.optional(),
      all: z.array(condition).min(1).optional(),
      any: z.array(condition).min(1).optional(),
      not: condition.optional(),
    })
    .strict()
    .refine(
      (c) =>
        [c.op !== undefined, c.all !== undefined, c.any !== undefined, c.not !== undefined].filter(Boolean)
          .length === 1,
      "a condition is exactly one of: {path, op, value}, all, any, not",
    )
    .refine((c) => c.op === undefined || c.path !== undefined, "an operator needs a path"),
);

const common = {
  id: stepId,
  name: z.string().max(200).optional(),
  /** The step that follows; default: the next one in its list; "end" finishes the flow or branch. */
  next: nextRef.optional(),
  retry: retryPolicy.optional(),
  timeoutSeconds: z.number().int().min(1).max(86_400).optional(),
};

export const agentStep = z
  .object({
    ...common,
    type: z.literal("agent"),
    agentId: z.string().uuid(),
    /** Pin a version of the agent; default: its current version when the step starts. */
    agentVersion: z.number().int().positive().optional(),
    message: z.string().min(1).max(100_000),
  })
  .strict();

export const mcpToolStep = z
  .object({
    ...common,
    type: z.literal("mcp_tool"),
    /** A built-in server (`calculator`, `filesystem`, `database`, `meridian`) or a registered one's name. */
    server: z.string().min(1).max(128),
    tool: z.string().min(1).max(128),
    arguments: z.record(z.string(), templateValue).default({}),
  })
  .strict();

export const httpStep = z
  .object({
    ...common,
    type: z.literal("http"),
    method: z.enum(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]).default("GET"),
    url: z.string().min(1).max(4096),
    headers: z.record(z.string(), z.string()).default({}),
    body: templateValue.optional(),
    /** Bytes of response body kept; a larger one fails the step. */
    maxResponseBytes: z.number().int().min(1).max(1_048_576).default(262_144),
  })
  .strict();

export const transformStep = z
  .object({
    ...common,
    type: z.literal("transform"),
    /** The step's output: templates and `$path` selections resolved against the context. */
    output: templateValue,
  })
  .strict();

export const conditionalStep = z
  .object({
    ...common,
    type: z.literal("conditional"),
    /** Tried in order; the first that holds picks the next step. */
    branches: z
      .array(z.object({ when: condition, next: nextRef }).strict())
      .min(1)
      .max(50),
    /** Where to go when none holds; default: the next step in the list. */
    default: nextRef.optional(),
  })
  .strict();

export const approvalStep = z
  .object({
    ...common,
    type: z.literal("wait_for_approval"),
    /** Shown to the approver; may hold templates. */
    message: z.string().max(10_000).optional(),
    /** JSON Schema the resume payload must satisfy; default: any object. */
    schema: z.record(z.string(), z.unknown()).optional(),
    expiresInSeconds: z
      .number()
      .int()
      .min(1)
      .max(30 * 86_400)
      .default(86_400),
    /** What expiry does: fail the step (default), or continue with `expiryOutput`. */
    onExpiry: z.enum(["fail", "continue"]).default("fail"),
    expiryOutput: templateValue.optional(),
  })
  .strict();

export const WAIT_STRATEGIES = ["all", "any", "n_of_m"] as const;

export interface ParallelStepInput {
  id: string;
  type: "parallel";
  name?: string | undefined;
  next?: string | undefined;
  retry?: z.input<typeof retryPolicy> | undefined;
  timeoutSeconds?: number | undefined;
  branches: { id: string; steps: StepInput[] }[];
  wait?: (typeof WAIT_STRATEGIES)[number] | undefined;
  n?: number | undefined;
  failFast?: boolean | undefined;
}
export type StepInput =
  | z.input<typeof agentStep>
  | z.input<typeof mcpToolStep>
  | z.input<typeof httpStep>
  | z.input<typeof transformStep>
  | z.input<typeof conditionalStep>
  | z.input<typeof approvalStep>
  | ParallelStepInput;

export const parallelStep = z
  .object({
    ...common,
    type: z.literal("parallel"),
    branches: z
      .array(z.object({ id: stepId, steps: z.lazy(() => z.array(step).min(1).max(100)) }).strict())
      .min(1)
      .max(50),
    /** all: every branch; any: the first to succeed; n_of_m: the first `n` to succeed. */
    wait: z.enum(WAIT_STRATEGIES).default("all"),
    n: z.number().int().min(1).optional(),
    /** Stop the other branches at the first failure (default), or collect every branch's error. */
    failFast: z.boolean().default(true),
  })
  .strict()
  .refine((s) => (s.wait === "n_of_m") === (s.n !== undefined), {
    message: "`n` is required with wait n_of_m and only then",
    path: ["n"],
  })
  .refine((s) => s.n === undefined || s.n <= s.branches.length, {
    message: "`n` cannot exceed the number of branches",
    path: ["n"],
  });

export const step: z.ZodType = z.lazy(() =>
  z.discriminatedUnion("type", [
    agentStep,
    mcpToolStep,
    httpStep,
    transformStep,
    conditionalStep,
    approvalStep,
    parallelStep,
  ]),
);

export type AgentStep = z.output<typeof agentStep>;
export type McpToolStep = z.output<typeof mcpToolStep>;
export type HttpStep = z.output<typeof httpStep>;
export type TransformStep = z.output<typeof transformStep>;
export type ConditionalStep = z.output<typeof conditionalStep>;
export type ApprovalStep = z.output<typeof approvalStep>;
export type ParallelStep = Omit<z.output<typeof parallelStep>, "branches"> & {
  branches: { id: string; steps: Step[] }[];
};
export type Step =
  | AgentStep
  | McpToolStep
  | HttpStep
  | TransformStep
  | ConditionalStep
  | ApprovalStep
  | ParallelStep;

export const workflowDefinition = z
  .object({
    steps: z.array(step).min(1).max(200),
    /** The execution's output; default: the output of the last step that ran. */
    output: templateValue.optional(),
    /** Wall time of a whole execution. */
    timeoutSeconds: z
      .number()
      .int()
      .min(1)
      .max(30 * 86_400)
      .optional(),
  })
  .strict();

export interface WorkflowDefinition {
  steps: Step[];
  output?: TemplateValue | undefined;
  timeoutSeconds?: number | undefined;
}
