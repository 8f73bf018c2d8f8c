import { and, eq, inArray, isNull } from "drizzle-orm";
import { agents, agentVersions } from "../../../db/schema";
import type { TenantDb } from "../../../db/tenant";
import { ApiError, type FieldError } from "../../lib/errors";
import { isUuid } from "../../lib/ids";
import { tenantRules } from "../../lib/tenant-limits";
import { validateDefinition, type WorkflowDefinition } from "../../workflows/definition/validate";
import { appendLocation } from "../../workflows/language/location";
import { inputSchemaProblems } from "./input-schema";

/** A definition and input schema that passed every check, as they are stored. */
export interface CheckedWorkflow {
  /** The definition with the language's defaults filled in. */
  definition: WorkflowDefinition;
  inputSchema: Record<string, unknown> | null;
}

/**
 * Checks a workflow about to be saved against the language and the tenant: the definition's
 * shape, references, cycles and templates (`validateDefinition`) under the tenant's step and
 * branch limits, the input schema, and that every agent step names a live agent of the tenant
 * (and, when it pins one, a version that agent has). Every problem is reported at once, each
 * with its path in the request body, written the way the definition language writes locations
 * (and the engine's errors name them): `definition.steps[0].agentId`, `inputSchema.properties.x`.
 *
 * @throws ApiError UNPROCESSABLE with `errors` listing each problem.
 * @example
 * const checked = await checkWorkflowForTenant(db, { definition: input.definition, inputSchema: null });
 */
export async function checkWorkflowForTenant(
  db: TenantDb,
  input: { definition: unknown; inputSchema: Record<string, unknown> | null },
): Promise<CheckedWorkflow> {
  const { limits } = await tenantRules(db);
  const schemaProblems = input.inputSchema ? inputSchemaProblems(input.inputSchema) : [];
  const result = validateDefinition(input.definition, {
    maxSteps: limits.maxWorkflowSteps,
    maxParallelBranches: limits.maxParallelBranches,
    // A broken schema is reported on its own; checking references against it would add noise.
    inputSchema: schemaProblems.length === 0 ? input.inputSchema : null,
  });
  // Agents are checked even when the definition has other problems, so one reply lists them all.
  const agentProblems = await agentStepProblems(db, input.definition);
  const problems: FieldError[] = [
    ...(result.ok ? [] : result.problems.map((p) => ({ path: definitionPath(p.path), message: p.message }))),
    ...agentProblems,
    ...schemaProblems,
  ];
  if (!result.ok || problems.length > 0) {
    throw new ApiError("UNPROCESSABLE", {
      detail: "The workflow cannot be saved; see errors.",
      errors: problems,
    });
  }
  return { definition: result.definition, inputSchema: input.inputSchema };
}

/** A problem path of `validateDefinition`, relative to the definition, as a request-body path. */
function definitionPath(path: string): string {
  if (path === "" || path === "(root)") return "definition";
  return path.startsWith("[") ? `definition${path}` : `definition.${path}`;
}

interface AgentRef {
  path: string;
  agentId: string;
  agentVersion: number | undefined;
}

/**
 * Agent steps of a definition that may not have passed validation yet: anything not shaped
 * like one is skipped here and reported by `validateDefinition`.
 */
function agentRefs(steps: unknown, path: string): AgentRef[] {
  if (!Array.isArray(steps)) return [];
  return steps.flatMap((step: unknown, i): AgentRef[] => {
    if (step === null || typeof step !== "object") return [];
    const s = step as { type?: unknown; agentId?: unknown; agentVersion?: unknown; branches?: unknown };
    const here = appendLocation(path, i);
    if (s.type === "agent" && typeof s.agentId === "string" && isUuid(s.agentId)) {
      const pinned = Number.isSafeInteger(s.agentVersion) && (s.agentVersion as number) > 0;
      return [
        { path: here, agentId: s.agentId, agentVersion: pinned ? (s.agentVersion as number) : undefined },
      ];
    }
    if (s.type === "parallel" && Array.isArray(s.branches)) {
      return s.branches.flatMap((branch: unknown, j) =>
        branch !== null && typeof branch === "object"
          ? agentRefs((branch as { steps?: unknown }).steps, `${appendLocation(`${here}.branches`, j)}.steps`)
          : [],
      );
    }
    return [];
  });
}

async function agentStepProblems(db: TenantDb, definition: unknown): Promise<FieldError[]> {
  if (definition === null || typeof definition !== "object") return [];
  const refs = agentRefs((definition as { steps?: unknown }).steps, "definition.steps");
  if (refs.length === 0) return [];
  const ids = [...new Set(refs.map((r) => r.agentId.toLowerCase()))];
  // RLS hides other tenants' agents: a foreign id is "unknown", like one that never existed.
  const live = await db
    .select({ id: agents.id })
    .from(agents)
    .where(and(eq(agents.tenantId, db.tenantId), inArray(agents.id, ids), isNull(agents.deletedAt)));
  const liveIds = new Set(live.map((a) => a.id));
  const pinned = refs.filter((r) => r.agentVersion !== undefined && liveIds.has(r.agentId.toLowerCase()));
  const versions =
    pinned.length === 0
      ? []
      : await db
          .select({ agentId: agentVersions.agentId, version: agentVersions.version })
          .from(agentVersions)
          .where(
            and(
              eq(agentVersions.tenantId, db.tenantId),
              inArray(agentVersions.agentId, [...new Set(pinned.map((r) => r.agentId.toLowerCase()))]),
              inArray(agentVersions.version, [...new Set(pinned.map((r) => r.agentVersion as number))]),
            ),
          );
  const have = new Set(versions.map((v) => `${v.agentId}:${v.version}`));
  const problems: FieldError[] = [];
  for (const ref of refs) {
    const id = ref.agentId.toLowerCase();
    if (!liveIds.has(id)) {
      problems.push({ path: `${ref.path}.agentId`, message: "unknown agent" });
    } else if (ref.agentVersion !== undefined && !have.has(`${id}:${ref.agentVersion}`)) {
      problems.push({
        path: `${ref.path}.agentVersion`,
        message: `agent ${ref.agentId} has no version ${ref.agentVersion}`,
      });
    }
  }
  return problems;
}
