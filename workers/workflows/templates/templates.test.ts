import { describe, expect, it } from "vitest";
import { BUILTIN_MCP_SERVERS } from "../../../mcp/servers";
import { BUILTIN_TOOLS } from "../../agents/tools/registry";
import { schemaIssues } from "../../lib/json-schema";
import { PLATFORM_DEFAULTS } from "../../lib/limits";
import { inputSchemaProblems } from "../../routes/workflows/input-schema";
import type { StepInput } from "../definition/schema";
import { validateDefinition } from "../definition/validate";
import { DEFAULT_TEMPLATE_MODEL, fill, placeholdersIn, UnknownPlaceholderError, WORKFLOW_TEMPLATES } from ".";

const IDS = ["0193b2c4-0000-7000-8000-000000000001", "0193b2c4-0000-7000-8000-000000000002"];

/** Every step of a definition, branches included. */
function allSteps(steps: StepInput[]): StepInput[] {
  return steps.flatMap((s) =>
    s.type === "parallel" ? [s, ...s.branches.flatMap((b) => allSteps(b.steps))] : [s],
  );
}

describe("fill", () => {
  it("replaces whole-string placeholders, keeping the value's type, and nothing else", () => {
    const filled = fill(
      {
        agentId: "@agent:researcher",
        topK: "@param:topK",
        ids: ["@param:collectionId"],
        prose: "ask @agent:researcher about {{input.topic}}",
        template: "{{steps.research.output.text}}",
        n: 3,
        none: null,
      },
      { agents: { researcher: IDS[0] as string }, params: { topK: 5, collectionId: IDS[1] } },
    );
    expect(filled).toEqual({
      agentId: IDS[0],
      topK: 5,
      ids: [IDS[1]],
      prose: "ask @agent:researcher about {{input.topic}}",
      template: "{{steps.research.output.text}}",
      n: 3,
      none: null,
    });
  });

  it("refuses a placeholder it has no value for", () => {
    expect(() => fill({ a: "@agent:nobody" }, { agents: {}, params: {} })).toThrow(UnknownPlaceholderError);
    expect(() => fill(["@param:missing"], { agents: {}, params: { other: 1 } })).toThrow(/@param:missing/);
  });
});

describe("the built-in templates", () => {
  it("are five, with unique slug ids", () => {
    const ids = WORKFLOW_TEMPLATES.map((t) => t.id);
    expect(ids).toEqual([
      "research-then-summarise",
      "parallel-analysis-synthesis",
      "supervisor-with-workers",
      "rag-answer-with-review",
      "tool-augmented-data-task",
    ]);
    for (const id of ids) expect(id).toMatch(/^[a-z0-9][a-z0-9-]{0,62}$/);
  });

  describe.each(WORKFLOW_TEMPLATES.map((t) => [t.id, t] as const))("%s", (_id, template) => {
    const collections = (template.collectionParameters ?? []).map((name) => [name, IDS[1]]);
    const params = template.parameters.parse(Object.fromEntries(collections)) as Record<string, unknown>;

    it("takes a model parameter that defaults to the platform's default model", () => {
      expect(params.model).toBe(DEFAULT_TEMPLATE_MODEL);
      expect(template.parameters.safeParse({ ...params, surprise: 1 }).success).toBe(false);
    });

    it("fills every placeholder: agents only name agents created before them, and known parameters", () => {
      const agents: Record<string, string> = {};
      for (const agent of template.agents) {
        expect(() => fill(agent, { agents, params }), agent.key).not.toThrow();
        agents[agent.key] = crypto.randomUUID();
      }
      expect(() => fill(template.definition, { agents, params })).not.toThrow();
      const keys = new Set(template.agents.map((a) => a.key));
      expect(keys.size).toBe(template.agents.length);
      const used = placeholdersIn(template.definition).filter((p) => p.startsWith("@agent:"));
      for (const key of keys) {
        const named =
          used.includes(`@agent:${key}`) || placeholdersIn(template.agents).includes(`@agent:${key}`);
        expect(named, `agent ${key} is used`).toBe(true);
      }
    });

    it("has a definition that passes the save-time checks, and a usable input schema and example input", () => {
      const agents = Object.fromEntries(template.agents.map((a) => [a.key, crypto.randomUUID()]));
      const definition = fill(template.definition, { agents, params });
      expect(inputSchemaProblems(template.inputSchema)).toEqual([]);
      const result = validateDefinition(definition, {
        maxSteps: PLATFORM_DEFAULTS.maxWorkflowSteps,
        maxParallelBranches: PLATFORM_DEFAULTS.maxParallelBranches,
        inputSchema: template.inputSchema,
      });
      expect(result.ok ? [] : result.problems).toEqual([]);
      expect(schemaIssues(template.inputSchema, template.exampleInput)).toEqual([]);
    });

    it("names only tools that exist: built-in agent tools and built-in MCP servers' tools", () => {
      for (const tool of template.agents.flatMap((a) => a.tools ?? [])) {
        if (tool.type === "builtin") expect(BUILTIN_TOOLS.has(tool.name), tool.name).toBe(true);
      }
      for (const step of allSteps(template.definition.steps)) {
        if (step.type !== "mcp_tool") continue;
        const server = BUILTIN_MCP_SERVERS.get(step.server);
        expect(
          server?.tools.map((t) => t.name),
          `${step.server}/${step.tool}`,
        ).toContain(step.tool);
      }
    });
  });
});
