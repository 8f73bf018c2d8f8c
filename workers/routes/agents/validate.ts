import { and, eq, inArray, isNull } from "drizzle-orm";
import { agents, agentVersions, tenants } from "../../../db/schema";
import type { TenantDb } from "../../../db/tenant";
import { BUILTIN_MCP_SERVERS } from "../../../mcp/servers";
import { agentToolConfig } from "../../agents/tools/agent";
import { knowledgeBaseConfig } from "../../agents/tools/knowledge-base";
import { BUILTIN_TOOLS } from "../../agents/tools/registry";
import { ApiError, type FieldError } from "../../lib/errors";
import { limitsAboveCeiling, type PartialLimits } from "../../lib/limits";
import { allowedModels } from "../../lib/models";

/**
 * Rules the schema cannot express, checked against the tenant's settings: the model must be
 * one the tenant may use, built-in tools must exist, `agent` tools must name another live agent
 * of the tenant (and a version it has), and limits may not exceed the tenant's ceiling or the
 * platform's.
 *
 * @throws ApiError UNPROCESSABLE listing each offending field.
 */
export async function checkAgentDefinition(
  db: TenantDb,
  definition: {
    model?: string | undefined;
    resourceLimits?: PartialLimits | undefined;
    tools?: { name: string; type: string; config?: Record<string, unknown> | undefined }[] | undefined;
  },
  /** The agent being updated; omitted when it is being created. */
  self?: string,
): Promise<void> {
  const [tenant] = await db
    .select({ settings: tenants.settings, limits: tenants.limits })
    .from(tenants)
    .where(eq(tenants.id, db.tenantId));
  const errors: FieldError[] = [];
  if (definition.model !== undefined) {
    const models = allowedModels(tenant?.settings.allowedModels);
    if (!models.includes(definition.model)) {
      errors.push({ path: "model", message: `unknown or not allowed; allowed: ${models.join(", ")}` });
    }
  }
  for (const [i, tool] of (definition.tools ?? []).entries()) {
    // Built-in tools are known now; remote MCP servers and collections are resolved when they run.
    if (tool.type === "builtin" && !BUILTIN_TOOLS.has(tool.name)) {
      errors.push({
        path: `tools.${i}.name`,
        message: `no built-in tool "${tool.name}"; built-in tools: ${[...BUILTIN_TOOLS.keys()].join(", ")}`,
      });
    }
    if (tool.type === "mcp") errors.push(...mcpToolErrors(tool, i));
    if (tool.type === "knowledge_base") errors.push(...knowledgeBaseToolErrors(tool, i));
  }
  errors.push(...(await agentToolErrors(db, definition.tools ?? [], self)));
  if (definition.resourceLimits) {
    for (const key of limitsAboveCeiling(definition.resourceLimits, tenant?.limits)) {
      errors.push({
        path: `resourceLimits.${key}`,
        message: "exceeds the tenant's or the platform's maximum",
      });
    }
  }
  if (errors.length > 0) {
    throw new ApiError("UNPROCESSABLE", {
      detail: "The agent definition breaks the tenant's rules.",
      errors,
    });
  }
}

/**
 * A `knowledge_base` tool names the collections it searches (`config.collectionIds`, 1-10) and
 * may set `topK` and `mode`. Whether the collections exist is checked when the tool runs: a
 * collection deleted later must not make the agent unsavable.
 */
function knowledgeBaseToolErrors(
  tool: { config?: Record<string, unknown> | undefined },
  i: number,
): FieldError[] {
  const parsed = knowledgeBaseConfig.safeParse(tool.config ?? {});
  if (parsed.success) return [];
  return parsed.error.issues.map((issue) => ({
    path: [`tools.${i}.config`, ...issue.path.map(String)].join("."),
    message: issue.message,
  }));
}

/**
 * An `agent` tool names another live agent of the tenant in `config.agentId` (another tenant's
 * id is unknown here, behind RLS) and may pin one of its versions in `config.agentVersion`. An
 * agent naming itself is refused; longer cycles are stopped at run time by the delegation depth
 * limit. An agent deleted later makes the tool fail when it runs, not the agent unsavable.
 */
async function agentToolErrors(
  db: TenantDb,
  tools: { type: string; config?: Record<string, unknown> | undefined }[],
  self: string | undefined,
): Promise<FieldError[]> {
  const errors: FieldError[] = [];
  const wanted: { i: number; agentId: string; agentVersion?: number | undefined }[] = [];
  for (const [i, tool] of tools.entries()) {
    if (tool.type !== "agent") continue;
    const parsed = agentToolConfig.safeParse(tool.config ?? {});
    if (!parsed.success) {
      errors.push(
        ...parsed.error.issues.map((issue) => ({
          path: [`tools.${i}.config`, ...issue.path.map(String)].join("."),
          message: issue.message,
        })),
      );
    } else if (parsed.data.agentId === self) {
      errors.push({ path: `tools.${i}.config.agentId`, message: "an agent cannot delegate to itself" });
    } else {
      wanted.push({ i, ...parsed.data });
    }
  }
  if (wanted.length === 0) return errors;
  const ids = [...new Set(wanted.map((w) => w.agentId))];
  const found = await db
    .select({ id: agents.id })
    .from(agents)
    .where(and(eq(agents.tenantId, db.tenantId), inArray(agents.id, ids), isNull(agents.deletedAt)));
  const versions = wanted.some((w) => w.agentVersion !== undefined)
    ? await db
        .select({ agentId: agentVersions.agentId, version: agentVersions.version })
        .from(agentVersions)
        .where(and(eq(agentVersions.tenantId, db.tenantId), inArray(agentVersions.agentId, ids)))
    : [];
  for (const w of wanted) {
    if (!found.some((a) => a.id === w.agentId)) {
      errors.push({ path: `tools.${w.i}.config.agentId`, message: `no agent ${w.agentId} in this tenant` });
    } else if (
      w.agentVersion !== undefined &&
      !versions.some((v) => v.agentId === w.agentId && v.version === w.agentVersion)
    ) {
      errors.push({
        path: `tools.${w.i}.config.agentVersion`,
        message: `agent ${w.agentId} has no version ${w.agentVersion}`,
      });
    }
  }
  return errors;
}

/**
 * An `mcp` tool names its server in `config.server` (and the server's tool in `config.tool`,
 * default: its own name). Built-in servers are checked now; a tenant's remote server is
 * resolved from its last discovery when the agent runs.
 */
function mcpToolErrors(
  tool: { name: string; config?: Record<string, unknown> | undefined },
  i: number,
): FieldError[] {
  const server = tool.config?.server;
  const name = tool.config?.tool ?? tool.name;
  if (typeof server !== "string" || server === "") {
    return [{ path: `tools.${i}.config.server`, message: "an mcp tool names its server" }];
  }
  if (typeof name !== "string") return [{ path: `tools.${i}.config.tool`, message: "must be a string" }];
  const builtin = BUILTIN_MCP_SERVERS.get(server);
  if (builtin && !builtin.tools.some((t) => t.name === name)) {
    return [
      {
        path: `tools.${i}.config.tool`,
        message: `the ${server} server has no tool "${name}"; its tools: ${builtin.tools.map((t) => t.name).join(", ")}`,
      },
    ];
  }
  return [];
}
