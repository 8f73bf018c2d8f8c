import type { z } from "@hono/zod-openapi";
import { compilePattern } from "../language/conditions";
import { ExpressionError } from "../language/errors";
import { isJsonObject } from "../language/json";
import { compileJsonPath } from "../language/jsonpath";
import { appendLocation } from "../language/location";
import { jsonPathReference, type VariableReference } from "../language/reference";
import { hasTemplate, scanTemplateValue } from "../language/template";
import {
  type Condition,
  type Step,
  type TemplateValue,
  type WorkflowDefinition,
  workflowDefinition,
} from "./schema";

export type { WorkflowDefinition };

/** One thing wrong with a definition, at its path: `steps[2].branches[0].steps[1].next`. */
export interface DefinitionProblem {
  path: string;
  message: string;
}

export interface ValidateOptions {
  /** Steps in the whole definition, branches included. */
  maxSteps: number;
  maxParallelBranches: number;
  /** The workflow's input schema; `input.<name>` references are checked against its `properties`. */
  inputSchema?: Record<string, unknown> | null;
}

/**
 * Checks a definition as the API receives it: its shape (schema.ts), then what the shape
 * cannot say: unique step ids, `next` targets in the same list, no cycles, limits, templates
 * and JSONPaths that parse, and references to steps that have run by then. Every problem is
 * reported, not only the first; the second group needs a well-formed definition, so it is
 * checked once the shape is right.
 *
 * @example
 * const result = validateDefinition(body.definition, { maxSteps: 50, maxParallelBranches: 10 });
 * if (!result.ok) throw new ApiError("UNPROCESSABLE", { errors: result.problems });
 */
export function validateDefinition(
  raw: unknown,
  opts: ValidateOptions,
): { ok: true; definition: WorkflowDefinition } | { ok: false; problems: DefinitionProblem[] } {
  const parsed = workflowDefinition.safeParse(raw);
  if (!parsed.success) return { ok: false, problems: shapeProblems(parsed.error.issues, raw) };
  const definition = parsed.data as WorkflowDefinition;
  const problems = new DefinitionChecker(definition, opts).check();
  return problems.length === 0 ? { ok: true, definition } : { ok: false, problems };
}

// ---------------------------------------------------------------------------------------------
// Shape

function shapeProblems(issues: readonly z.core.$ZodIssue[], raw: unknown): DefinitionProblem[] {
  return issues.flatMap((issue): DefinitionProblem[] => {
    const path = issue.path.reduce<string>(
      (at, key) => appendLocation(at, typeof key === "number" ? key : String(key)),
      "",
    );
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({ path: appendLocation(path, key), message: "unknown field" }));
    }
    return [{ path: path || "(root)", message: shapeMessage(issue, raw) }];
  });
}

function shapeMessage(issue: z.core.$ZodIssue, raw: unknown): string {
  const union = issue.code === "invalid_union";
  if ((union || issue.code === "invalid_type") && valueAt(raw, issue.path) === undefined) return "required";
  // Besides the step types, the only unions are template values, and JSON always fits one of
  // those; zod's own "Invalid input" says less.
  if (union && issue.discriminator === undefined) return "not a JSON value";
  return issue.message;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let value = root;
  for (const key of path) {
    if (value === null || typeof value !== "object" || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// Flow and references

const END = "end";

/** The steps of the whole flow, or of one branch: `next` can only name a step in the same list. */
interface FlowList {
  path: string;
  steps: Step[];
  /** Where each step goes, by step id. */
  edges: Map<string, Edge[]>;
  /** Every step reachable from each step, computed when first needed. */
  reach: Map<string, Set<string>>;
}

interface Edge {
  to: string;
  /** The field that names `to`, or the step's own path when it is the following step. */
  path: string;
}

/** A step and where it sits: its chain runs from the top-level list down to the step itself. */
interface PlacedStep {
  step: Step;
  path: string;
  chain: { list: FlowList; id: string }[];
}

type Reference = VariableReference & { location: string };

class DefinitionChecker {
  private readonly problems: DefinitionProblem[] = [];
  private readonly placed = new Map<string, PlacedStep>();
  private readonly lists: FlowList[] = [];
  private stepCount = 0;

  constructor(
    private readonly definition: WorkflowDefinition,
    private readonly opts: ValidateOptions,
  ) {}

  check(): DefinitionProblem[] {
    this.place(this.definition.steps, "steps", []);
    if (this.stepCount > this.opts.maxSteps) {
      this.report("steps", `${this.stepCount} steps, branches included; the limit is ${this.opts.maxSteps}`);
    }
    for (const list of this.lists) {
      this.connect(list);
      // With two steps of one id the engine jumps to the first, so the graph of such a list
      // would show cycles that renaming the duplicate removes; its duplicate is reported instead.
      if (new Set(list.steps.map((s) => s.id)).size === list.steps.length) this.reportCycles(list);
    }
    for (const placed of this.placed.values()) this.checkExpressions(placed);
    if (this.definition.output !== undefined) {
      // The output is resolved after the flow ends: any step may have run by then.
      this.checkTemplate(this.definition.output, "output", undefined);
    }
    return dedupe(this.problems);
  }

  private report(path: string, message: string): void {
    this.problems.push({ path, message });
  }

  /** Indexes every step by id, reports duplicates and branch limits, and builds the lists. */
  private place(steps: Step[], path: string, parentChain: PlacedStep["chain"]): void {
    const list: FlowList = { path, steps, edges: new Map(), reach: new Map() };
    this.lists.push(list);
    steps.forEach((step, i) => {
      const stepPath = `${path}[${i}]`;
      const chain = [...parentChain, { list, id: step.id }];
      this.stepCount++;
      const first = this.placed.get(step.id);
      if (step.id === END) this.report(`${stepPath}.id`, `"end" is reserved: next: "end" finishes the flow`);
      else if (first) this.report(`${stepPath}.id`, `duplicate step id "${step.id}"; also at ${first.path}`);
      else this.placed.set(step.id, { step, path: stepPath, chain });
      if (step.type !== "parallel") return;
      if (step.branches.length > this.opts.maxParallelBranches) {
        this.report(
          `${stepPath}.branches`,
          `${step.branches.length} branches; the limit is ${this.opts.maxParallelBranches}`,
        );
      }
      const branchIds = new Set<string>();
      step.branches.forEach((branch, j) => {
        const branchPath = `${stepPath}.branches[${j}]`;
        if (branchIds.has(branch.id)) this.report(`${branchPath}.id`, `duplicate branch id "${branch.id}"`);
        branchIds.add(branch.id);
        this.place(branch.steps, `${branchPath}.steps`, chain);
      });
    });
  }

  /**
   * Where each step of a list goes, as the engine runs it: a step's `next`, else the following
   * step, else the end; a conditional to each branch's `next` and, when none holds, to its
   * `default`, else its `next`, else the following step.
   */
  private connect(list: FlowList): void {
    list.steps.forEach((step, i) => {
      const path = `${list.path}[${i}]`;
      const following = list.steps[i + 1]?.id ?? END;
      const targets: { to: string | undefined; path: string }[] = [];
      if (step.type === "conditional") {
        for (const [k, branch] of step.branches.entries()) {
          targets.push({ to: branch.next, path: `${path}.branches[${k}].next` });
        }
        if (step.default !== undefined && step.next !== undefined) {
          this.report(`${path}.next`, "never used: when no branch holds, a conditional goes to its default");
        }
        targets.push(
          step.default !== undefined
            ? { to: step.default, path: `${path}.default` }
            : { to: step.next, path: `${path}.next` },
        );
      } else {
        targets.push({ to: step.next, path: `${path}.next` });
      }
      const edges: Edge[] = [];
      for (const target of targets) {
        if (target.to === undefined) edges.push({ to: following, path });
        else if (this.isTarget(list, target.to, target.path))
          edges.push({ to: target.to, path: target.path });
      }
      if (!list.edges.has(step.id)) list.edges.set(step.id, edges);
    });
  }

  private isTarget(list: FlowList, to: string, path: string): boolean {
    if (to === END || list.steps.some((s) => s.id === to)) return true;
    const elsewhere = this.placed.get(to);
    this.report(
      path,
      elsewhere
        ? `"${to}" is at ${elsewhere.path}; next can only name a step in the same list (the top level or the same branch), or "end"`
        : `no step "${to}"; name a step in the same list, or "end"`,
    );
    return false;
  }

  private reportCycles(list: FlowList): void {
    const state = new Map<string, "open" | "done">();
    const stack: string[] = [];
    const seen = new Set<string>();
    const visit = (id: string) => {
      state.set(id, "open");
      stack.push(id);
      for (const edge of list.edges.get(id) ?? []) {
        if (edge.to === END) continue;
        if (state.get(edge.to) === "open") {
          const cycle = [...stack.slice(stack.indexOf(edge.to)), edge.to];
          const key = [...cycle.slice(0, -1)].sort().join(" ");
          if (!seen.has(key)) this.report(edge.path, `cycle: ${cycle.join(" -> ")}`);
          seen.add(key);
        } else if (!state.has(edge.to)) {
          visit(edge.to);
        }
      }
      stack.pop();
      state.set(id, "done");
    };
    for (const step of list.steps) if (!state.has(step.id)) visit(step.id);
  }

  private reaches(list: FlowList, from: string, to: string): boolean {
    let reachable = list.reach.get(from);
    if (!reachable) {
      reachable = new Set();
      const pending = [from];
      for (let id = pending.pop(); id !== undefined; id = pending.pop()) {
        for (const { to: next } of list.edges.get(id) ?? []) {
          if (next === END || reachable.has(next)) continue;
          reachable.add(next);
          pending.push(next);
        }
      }
      list.reach.set(from, reachable);
    }
    return reachable.has(to);
  }

  private checkExpressions(placed: PlacedStep): void {
    const { step, path } = placed;
    const at = (field: string) => `${path}.${field}`;
    switch (step.type) {
      case "agent":
        this.checkTemplate(step.message, at("message"), placed);
        return;
      case "mcp_tool":
        this.checkTemplate(step.arguments, at("arguments"), placed);
        return;
      case "http":
        this.checkTemplate(step.url, at("url"), placed);
        this.checkTemplate(step.headers, at("headers"), placed);
        if (step.body !== undefined) this.checkTemplate(step.body, at("body"), placed);
        if (!hasTemplate(step.url) && !isHttpUrl(step.url)) {
          this.report(at("url"), "an absolute http:// or https:// URL (or a template)");
        }
        return;
      case "transform":
        this.checkTemplate(step.output, at("output"), placed);
        return;
      case "conditional":
        for (const [k, branch] of step.branches.entries()) {
          this.checkCondition(branch.when, at(`branches[${k}].when`), placed);
        }
        return;
      case "wait_for_approval":
        if (step.message !== undefined) this.checkTemplate(step.message, at("message"), placed);
        if (step.expiryOutput !== undefined)
          this.checkTemplate(step.expiryOutput, at("expiryOutput"), placed);
        return;
      case "parallel":
        return;
    }
  }

  private checkTemplate(value: TemplateValue, location: string, from: PlacedStep | undefined): void {
    const { references, errors } = scanTemplateValue(value, location);
    for (const error of errors) this.report(error.location ?? location, error.detail);
    for (const reference of references) this.checkReference(reference, from);
  }

  private checkCondition(condition: Condition, location: string, from: PlacedStep): void {
    const nested: [Condition, string][] = [
      ...(condition.all ?? []).map((c, i): [Condition, string] => [c, `${location}.all[${i}]`]),
      ...(condition.any ?? []).map((c, i): [Condition, string] => [c, `${location}.any[${i}]`]),
      ...(condition.not ? [[condition.not, `${location}.not`] as [Condition, string]] : []),
    ];
    for (const [child, childLocation] of nested) this.checkCondition(child, childLocation, from);
    if (nested.length > 0 && (condition.path !== undefined || condition.value !== undefined)) {
      this.report(location, "path and value go with op, not with all, any or not");
    }
    if (condition.path !== undefined) {
      try {
        const reference = jsonPathReference(compileJsonPath(condition.path));
        if (reference) this.checkReference({ ...reference, location: `${location}.path` }, from);
      } catch (error) {
        if (!(error instanceof ExpressionError)) throw error;
        this.report(`${location}.path`, error.detail);
      }
    }
    if (condition.op === undefined) return;
    const { op, value } = condition;
    const valueAt = `${location}.value`;
    if (value !== undefined) this.checkTemplate(value, valueAt, from);
    if (op === "exists") {
      if (value !== undefined) this.report(valueAt, "exists takes no value");
      return;
    }
    if (value === undefined) {
      this.report(valueAt, `${op} needs a value`);
      return;
    }
    if (!isLiteral(value)) return;
    if (op === "matches") {
      try {
        compilePattern(value);
      } catch (error) {
        if (!(error instanceof ExpressionError)) throw error;
        this.report(valueAt, error.detail);
      }
    } else if (op === "in" && !Array.isArray(value) && typeof value !== "string") {
      this.report(valueAt, "in needs an array (or a string to find a substring in)");
    }
  }

  private checkReference(reference: Reference, from: PlacedStep | undefined): void {
    const { stepId, raw, location } = reference;
    if (reference.root === "input") {
      const name = reference.segments[0];
      if (typeof name === "string" && !this.inputAllows(name)) {
        this.report(location, `${raw}: input.${name} is not in the input schema`);
      }
      return;
    }
    if (stepId === undefined) return;
    const target = this.placed.get(stepId);
    if (!target) {
      this.report(location, `${raw}: unknown step "${stepId}"`);
      return;
    }
    const why = from && this.notBefore(target, from);
    if (why) this.report(location, `${raw}: ${why}`);
  }

  /** Whether `name` is a property of an object input schema, or the schema says more may come. */
  private inputAllows(name: string): boolean {
    const schema = this.opts.inputSchema;
    if (!schema || !isJsonObject(schema.properties)) return true;
    // JSON Schema allows other properties by default, but a reference to one the schema does
    // not list is far more often a typo; only an explicit additionalProperties lets it through.
    const extra = schema.additionalProperties;
    if (extra === true || isJsonObject(extra)) return true;
    return Object.hasOwn(schema.properties, name);
  }

  /**
   * Why `target` may not have succeeded when `from` runs, or undefined when it has. Both
   * chains start at the top level; where they first part, the two steps (or the parallel steps
   * that hold them) are in one list, and the target must reach the other there.
   */
  private notBefore(target: PlacedStep, from: PlacedStep): string | undefined {
    const name = `"${target.step.id}"`;
    for (let depth = 0; ; depth++) {
      const t = target.chain[depth];
      const f = from.chain[depth];
      if (!t) return `${name} is still running while the steps in its branches run`;
      if (!f) return `"${from.step.id}" cannot read the steps of its own branches`;
      if (t.list !== f.list) return `${name} runs in another branch of "${from.chain[depth - 1]?.id}"`;
      if (t.id !== f.id) {
        if (this.reaches(t.list, t.id, f.id)) return undefined;
        const holder = f.id === from.step.id ? "" : ` (which holds "${from.step.id}")`;
        return this.reaches(t.list, f.id, t.id)
          ? `${name} runs after "${f.id}"${holder}`
          : `${name} is not on any path to "${f.id}"${holder}`;
      }
      if (depth === target.chain.length - 1 && depth === from.chain.length - 1) {
        return "a step cannot read its own output";
      }
    }
  }
}

/** A value with no template or `$path` in it: what it is now is what the step will see. */
function isLiteral(value: TemplateValue): boolean {
  if (typeof value === "string") return !hasTemplate(value);
  if (Array.isArray(value)) return value.every(isLiteral);
  if (value === null || typeof value !== "object") return true;
  return !Object.hasOwn(value, "$path") && Object.values(value).every(isLiteral);
}

function isHttpUrl(text: string): boolean {
  if (!URL.canParse(text)) return false;
  const { protocol } = new URL(text);
  return protocol === "http:" || protocol === "https:";
}

function dedupe(problems: DefinitionProblem[]): DefinitionProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}\n${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
