import { describe, expect, it } from "vitest";
import { api, type ProblemBody } from "../../../test/harness/api";
import { createTenant } from "../../../test/harness/fixtures";
import { modelRequests, scriptModel } from "../../../test/harness/model";
import type { ExecuteAgentResponse } from "../../routes/agents/execute-agent";
import type { AgentResponse } from "../../routes/agents/schemas";

interface ExecutionList {
  data: { toolName: string; serverName: string; source: string; status: string; runId: string | null }[];
}

const exactAdd = { name: "add_exactly", type: "mcp", config: { server: "calculator", tool: "add" } };
const files = [
  { name: "write_file", type: "mcp", config: { server: "filesystem" } },
  { name: "read_file", type: "mcp", config: { server: "filesystem" } },
];

async function createAgent(token: string, tools: unknown[]): Promise<AgentResponse> {
  const res = await api.post<AgentResponse>("/v1/agents", {
    token,
    body: { name: "mcp-user", model: "claude-sonnet-4-6", tools },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

function toolCall(id: string, name: string, input: unknown) {
  return { message: { content: [{ type: "tool_use", id, name, input }] } };
}

describe("agents calling MCP tools", () => {
  it("offers a built-in MCP server's tool under the agent's name, runs it and records the call with the run", async () => {
    const { token } = await createTenant();
    const agent = await createAgent(token, [exactAdd]);
    const scenario = await scriptModel([
      toolCall("toolu_add", "add_exactly", { a: 0.1, b: 0.2 }),
      { message: { content: [{ type: "text", text: "0.3" }] } },
    ]);
    const res = await api.post<ExecuteAgentResponse>(`/v1/agents/${agent.id}/execute`, {
      token,
      headers: { "x-model-scenario": scenario },
      body: { message: "0.1 + 0.2?" },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.run).toMatchObject({ status: "succeeded", toolCalls: 1 });

    const [first, second] = await modelRequests(scenario);
    const offered = first?.body.tools as { name: string; input_schema: { properties: object } }[];
    expect(offered.map((t) => t.name)).toEqual(["add_exactly"]);
    expect(Object.keys(offered[0]?.input_schema.properties ?? {})).toEqual(["a", "b"]);
    const results = (second?.body.messages.at(-1)?.content ?? []) as { content: string }[];
    const result = results[0];
    expect(JSON.parse(result?.content ?? "{}")).toMatchObject({ decimal: "0.3", exact: true });

    const executions = await api.get<ExecutionList>(`/v1/mcp/executions?runId=${res.body.run.id}`, { token });
    expect(executions.body.data).toEqual([
      expect.objectContaining({
        serverName: "calculator",
        toolName: "add",
        source: "builtin",
        status: "succeeded",
      }),
    ]);
  });

  it("writes and reads the tenant's files through the filesystem server, as the member who started the run", async () => {
    const tenant = await createTenant();
    const agent = await createAgent(tenant.token, files);
    const memberKey = await tenant.keyWithRole("member");
    const scenario = await scriptModel([
      toolCall("toolu_w", "write_file", { path: "/notes.md", content: "hello" }),
      toolCall("toolu_r", "read_file", { path: "/notes.md" }),
    ]);
    const res = await api.post<ExecuteAgentResponse>(`/v1/agents/${agent.id}/execute`, {
      token: memberKey,
      headers: { "x-model-scenario": scenario },
      body: { message: "save a note" },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.run.toolCalls).toBe(2);
    const afterRead = (await modelRequests(scenario))[2]?.body.messages.at(-1)?.content as {
      content: string;
    }[];
    expect(JSON.parse(afterRead[0]?.content ?? "{}")).toMatchObject({ path: "/notes.md", content: "hello" });

    // The file is the tenant's: another tenant's agent reading the same path finds nothing.
    const other = await createTenant();
    const otherAgent = await createAgent(other.token, files);
    const peek = await scriptModel([toolCall("toolu_p", "read_file", { path: "/notes.md" })]);
    await api.post(`/v1/agents/${otherAgent.id}/execute`, {
      token: other.token,
      headers: { "x-model-scenario": peek },
      body: { message: "read it" },
    });
    const refused = (await modelRequests(peek))[1]?.body.messages.at(-1)?.content as {
      content: string;
      is_error?: boolean;
    }[];
    expect(refused[0]?.is_error).toBe(true);
    expect(refused[0]?.content).not.toContain("hello");
  });

  it("refuses an agent naming a built-in MCP server's tool that does not exist, or no server (422)", async () => {
    const { token } = await createTenant();
    for (const [tool, path] of [
      [{ name: "x", type: "mcp", config: { server: "calculator", tool: "sqrt" } }, "tools.0.config.tool"],
      [{ name: "x", type: "mcp" }, "tools.0.config.server"],
    ] as const) {
      const res = await api.post<ProblemBody>("/v1/agents", {
        token,
        body: { name: "bad", model: "claude-sonnet-4-6", tools: [tool] },
      });
      expect(res.status).toBe(422);
      expect(res.body.errors?.map((e) => e.path)).toEqual([path]);
    }
  });
});
