/**
 * The workflows the benchmark runs, and the baseline: the same transforms resolved with the
 * engine's own `resolveValue` in a plain loop, in Node, with nothing stored.
 */
import type { Step, TemplateValue, WorkflowDefinition } from "../../workers/workflows/definition/schema";
import type { ExpressionContext } from "../../workers/workflows/language/context";
import { resolveValue } from "../../workers/workflows/language/template";

export interface Shape {
  name: string;
  definition: WorkflowDefinition;
  /** Steps the execution records: transforms, and the parallel step itself. */
  steps: number;
}

/** The execution's input: every step reads it. */
export const INPUT = { x: 7, who: "bench" };

function transform(id: string, from: string | undefined, label: string): Step {
  const n = from === undefined ? "{{input.x}}" : `{{steps.${from}.output.n}}`;
  return {
    id,
    type: "transform",
    output: { n, label: `${label} {{input.x}} for {{input.who}}` },
  } as Step;
}

/** `count` transforms in a row, each reading the previous one's output and the input. */
export function chain(count: number): Shape {
  const steps = Array.from({ length: count }, (_, i) =>
    transform(`s${i}`, i === 0 ? undefined : `s${i - 1}`, `step ${i}`),
  );
  return { name: `chain of ${count}`, definition: { steps } as WorkflowDefinition, steps: count };
}

/** One parallel step (wait for all) of `branches` branches, each `depth` transforms in a row. */
export function fanOut(branches: number, depth: number): Shape {
  const step = {
    id: "fan",
    type: "parallel",
    branches: Array.from({ length: branches }, (_, b) => ({
      id: `b${b}`,
      steps: Array.from({ length: depth }, (_, i) =>
        transform(`b${b}s${i}`, i === 0 ? undefined : `b${b}s${i - 1}`, `branch ${b} step ${i}`),
      ),
    })),
  } as Step;
  return {
    name: `parallel ${branches}x${depth}`,
    definition: { steps: [step] } as WorkflowDefinition,
    steps: 1 + branches * depth,
  };
}

export interface PlainRun {
  /** Milliseconds for the whole loop. */
  ms: number;
  /** What the workflow's execution should answer: the last step's output, or the parallel step's branches. */
  output: unknown;
}

/**
 * The baseline: every transform of `shape` resolved with `resolveValue` against a context that
 * grows as steps finish, in definition order (branches one after another), nothing else.
 */
export function runPlain(shape: Shape, input: unknown): PlainRun {
  const started = performance.now();
  const ctx: ExpressionContext = { input, steps: {}, env: {} };
  const runList = (steps: readonly Step[]): unknown => {
    let last: unknown = null;
    for (const step of steps) {
      if (step.type === "transform") {
        last = resolveValue(step.output as TemplateValue, ctx, `steps.${step.id}.output`);
      } else if (step.type === "parallel") {
        const branches: Record<string, unknown> = {};
        for (const branch of step.branches) branches[branch.id] = runList(branch.steps);
        last = { branches };
      } else {
        throw new Error(`the baseline runs transform and parallel steps only, not ${step.type}`);
      }
      ctx.steps[step.id] = { output: last, status: "succeeded" };
    }
    return last;
  };
  const output = runList(shape.definition.steps);
  return { ms: performance.now() - started, output };
}
