import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { usageEvents } from "../../../db/schema/usage";
import { api, type ProblemBody } from "../../../test/harness/api";
import { createTenant } from "../../../test/harness/fixtures";
import { modelRequests, scriptModel } from "../../../test/harness/model";
import type { ExecuteAgentResponse } from "../../routes/agents/execute-agent";
import type { AgentResponse } from "../../routes/agents/schemas";
import { withTenantDb } from "../../routes/conversations/test-fixtures";
import { createCollection, settled, uploadText } from "../../routes/rag-documents/test-fixtures";

async function agentWithKnowledge(token: string, collectionIds: string[]): Promise<AgentResponse> {
  const res = await api.post<AgentResponse>("/v1/agents", {
    token,
    body: {
      name: "support",
      model: "claude-sonnet-4-6",
      tools: [{ name: "search_handbook", type: "knowledge_base", config: { collectionIds, topK: 3 } }],
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

interface ToolResultBlock {
  type: string;
  content: { type: string; source?: string; title?: string; content?: { text: string }[] }[];
}

describe("agents with a knowledge base", () => {
  it("searches the named collections, hands the model citable search results and keeps its citations in the messages", async () => {
    const { tenant, token } = await createTenant();
    const collection = await createCollection(token);
    const doc = await uploadText(
      token,
      collection.id,
      "Refunds are paid within 30 days to the original card.",
      {
        title: "Refund policy",
      },
    );
    await uploadText(token, collection.id, "The office plants are watered on Fridays.");
    await settled(token, doc.id);
    const agent = await agentWithKnowledge(token, [collection.id]);

    const scenario = await scriptModel([
      {
        message: {
          content: [
            { type: "tool_use", id: "toolu_kb", name: "search_handbook", input: { query: "refund days" } },
          ],
        },
      },
      {
        message: {
          content: [
            {
              type: "text",
              text: "Refunds take up to 30 days.",
              citations: [
                {
                  type: "search_result_location",
                  source: "placeholder",
                  title: "Refund policy",
                  cited_text: "Refunds are paid within 30 days to the original card.",
                  search_result_index: 0,
                  start_block_index: 0,
                  end_block_index: 0,
                },
              ],
            },
          ],
        },
      },
    ]);
    const res = await api.post<ExecuteAgentResponse>(`/v1/agents/${agent.id}/execute`, {
      token,
      headers: { "x-model-scenario": scenario },
      body: { message: "How long do refunds take?" },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.run).toMatchObject({ status: "succeeded", toolCalls: 1 });

    const [first, second] = await modelRequests(scenario);
    const offered = first?.body.tools as { name: string }[];
    expect(offered.map((t) => t.name)).toEqual(["search_handbook"]);
    const [result] = (second?.body.messages.at(-1)?.content ?? []) as ToolResultBlock[];
    expect(result?.type).toBe("tool_result");
    const top = result?.content[0];
    expect(top).toMatchObject({
      type: "search_result",
      title: "Refund policy",
      citations: { enabled: true },
    });
    expect(top?.source).toMatch(/^meridian:\/\/chunks\/[0-9a-f-]{36}$/);
    expect(top?.content?.[0]?.text).toContain("30 days");

    const stored = res.body.messages.find(
      (m) => m.role === "assistant" && JSON.stringify(m.content).includes("30 days"),
    );
    expect(JSON.stringify(stored?.content)).toContain("search_result_location");

    // The search is metered with the call: one tool call and the query's embedding tokens.
    const usage = await withTenantDb(tenant.id, (db) =>
      db.select().from(usageEvents).where(eq(usageEvents.resourceId, res.body.run.id)),
    );
    const toolEvents = usage.filter((e) =>
      e.eventKey.startsWith(`agent_tool_call:${res.body.run.id}:1:toolu_kb:`),
    );
    expect(toolEvents.map((e) => [e.meter, e.unit]).sort()).toEqual([
      ["embedding_tokens", "tokens"],
      ["tool_calls", "calls"],
    ]);
    const embedded = toolEvents.find((e) => e.meter === "embedding_tokens");
    expect(embedded?.quantity).toBeGreaterThan(0);
    expect(embedded?.model).toBe(collection.embedding.model);
  });

  it("finds nothing in another tenant's collection named in its config", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const theirs = await createCollection(a.token);
    const secret = await uploadText(a.token, theirs.id, "Tenant A's launch date is in March.");
    await settled(a.token, secret.id);
    const agent = await agentWithKnowledge(b.token, [theirs.id]);
    const scenario = await scriptModel([
      {
        message: {
          content: [
            { type: "tool_use", id: "toolu_x", name: "search_handbook", input: { query: "launch date" } },
          ],
        },
      },
      { message: { content: [{ type: "text", text: "Nothing found." }] } },
    ]);
    const res = await api.post<ExecuteAgentResponse>(`/v1/agents/${agent.id}/execute`, {
      token: b.token,
      headers: { "x-model-scenario": scenario },
      body: { message: "When is the launch?" },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const sent = JSON.stringify((await modelRequests(scenario))[1]?.body.messages.at(-1));
    expect(sent).not.toContain("March");
  });

  it("refuses a knowledge-base tool without collections (422)", async () => {
    const { token } = await createTenant();
    const res = await api.post<ProblemBody>("/v1/agents", {
      token,
      body: {
        name: "bad",
        model: "claude-sonnet-4-6",
        tools: [{ name: "kb", type: "knowledge_base", config: { collectionIds: [] } }],
      },
    });
    expect(res.status).toBe(422);
    expect(res.body.errors?.[0]?.path).toBe("tools.0.config.collectionIds");
  });
});
