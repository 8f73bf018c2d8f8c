import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { type ConnectionConfig, connect } from "../../../db/client";
import { api, type ProblemBody } from "../../../test/harness/api";
import { createTenant } from "../../../test/harness/fixtures";
import { receivedSpans, requestSpan } from "../../../test/harness/observability";
import { fetchWorker, scrape } from "../../../test/harness/prometheus";
import worker from "../../index";
import type { AgentResponse } from "./schemas";

/** The table owner: changes a row behind the API's back, to tell a cached answer from a fresh one. */
const owner: ConnectionConfig = {
  DATABASE_URL: inject("ownerDatabaseUrl"),
  NEON_WS_PROXY: (env as unknown as { NEON_WS_PROXY?: string }).NEON_WS_PROXY,
};

async function renameBehindTheApi(id: string, name: string): Promise<void> {
  const client = await connect(owner);
  try {
    await client.query("update agents set name = $2 where id = $1", [id, name]);
  } finally {
    await client.end();
  }
}

async function newAgent(token: string, name = "support"): Promise<AgentResponse> {
  const res = await api.post<AgentResponse>("/v1/agents", {
    token,
    body: { name, model: "claude-sonnet-4-6", systemPrompt: "Be brief." },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

const getAgent = (token: string, id: string) =>
  api.get<AgentResponse & ProblemBody>(`/v1/agents/${id}`, { token });

describe("agent cache", () => {
  it("answers a repeated read from the cache, and shows an update, delete and restore at once", async () => {
    const { token } = await createTenant();
    const agent = await newAgent(token);
    expect((await getAgent(token, agent.id)).body.name).toBe("support");
    expect((await api.get(`/v1/agents/${agent.id}/versions/1`, { token })).status).toBe(200);

    // Cached: a change the API did not make (so did not invalidate) is not seen...
    await renameBehindTheApi(agent.id, "changed behind the cache");
    expect((await getAgent(token, agent.id)).body.name).toBe("support");

    // ...but every change through the API is, on the very next read.
    const patched = await api.patch<AgentResponse>(`/v1/agents/${agent.id}`, {
      token,
      body: { name: "renamed", systemPrompt: "Be thorough." },
    });
    expect(patched.status).toBe(200);
    const afterUpdate = await getAgent(token, agent.id);
    expect(afterUpdate.body).toMatchObject({ name: "renamed", systemPrompt: "Be thorough.", version: 2 });
    expect((await getAgent(token, agent.id)).body).toMatchObject({ name: "renamed", version: 2 });
    const v2 = await api.get<{ version: number; name: string }>(`/v1/agents/${agent.id}/versions/2`, {
      token,
    });
    expect(v2.body).toMatchObject({ version: 2, name: "renamed" });

    expect((await api.delete(`/v1/agents/${agent.id}`, { token })).status).toBe(204);
    expect((await getAgent(token, agent.id)).status).toBe(404);
    expect((await api.get(`/v1/agents/${agent.id}/versions/1`, { token })).status).toBe(404);
    expect((await api.get(`/v1/agents/${agent.id}/versions`, { token })).status).toBe(404);

    expect((await api.post(`/v1/agents/${agent.id}/restore`, { token })).status).toBe(200);
    expect((await getAgent(token, agent.id)).body).toMatchObject({ name: "renamed", version: 2 });
    expect((await api.get(`/v1/agents/${agent.id}/versions/1`, { token })).status).toBe(200);
  });

  it("counts hits and misses", async () => {
    const { token } = await createTenant();
    const agent = await newAgent(token);
    const namespace = `test-${crypto.randomUUID()}`;
    const auth = { headers: { authorization: `Bearer ${token}` } };
    for (let i = 0; i < 3; i++)
      expect((await fetchWorker(`/v1/agents/${agent.id}`, auth, namespace)).status).toBe(200);
    const s = await scrape({ namespace });
    expect(s.value('meridian_cache_requests_total{cache="agent",result="miss"}')).toBe(1);
    expect(s.value('meridian_cache_requests_total{cache="agent",result="hit"}')).toBe(2);
  });

  it("never answers one tenant with another's entry", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const agentA = await newAgent(a.token, "same name");
    const agentB = await newAgent(b.token, "same name");
    await getAgent(a.token, agentA.id);
    await getAgent(b.token, agentB.id);
    expect((await getAgent(b.token, agentA.id)).status).toBe(404);
    expect((await getAgent(a.token, agentB.id)).status).toBe(404);
    expect((await api.get(`/v1/agents/${agentA.id}/versions/1`, { token: b.token })).status).toBe(404);
    await api.patch(`/v1/agents/${agentA.id}`, { token: a.token, body: { description: "A's" } });
    expect((await getAgent(b.token, agentB.id)).body.description).toBeNull();
    expect((await getAgent(a.token, agentA.id)).body.description).toBe("A's");
  });

  it("ends on the last write when updates and reads run concurrently", async () => {
    const { token } = await createTenant();
    const agent = await newAgent(token);
    for (let round = 1; round <= 4; round++) {
      const reads = Array.from({ length: 4 }, () => getAgent(token, agent.id));
      const write = api.patch(`/v1/agents/${agent.id}`, { token, body: { name: `round ${round}` } });
      const moreReads = Array.from({ length: 4 }, () => getAgent(token, agent.id));
      const answers = await Promise.all([...reads, write, ...moreReads]);
      expect(answers.every((res) => res.status === 200)).toBe(true);
      // Once the write has answered, no read may see what came before it.
      for (let i = 0; i < 3; i++) expect((await getAgent(token, agent.id)).body.name).toBe(`round ${round}`);
    }
  });

  it("spares a cached read its agents query", async () => {
    const { token } = await createTenant();
    const agent = await newAgent(token);
    const queries = async () => {
      const requestId = `req_cache_${crypto.randomUUID()}`;
      const res = await api.get(`/v1/agents/${agent.id}`, { token, headers: { "x-request-id": requestId } });
      expect(res.status).toBe(200);
      const { traceId } = await requestSpan(requestId);
      const spans = await receivedSpans({ traceId });
      return spans.filter((s) => s.attributes["db.system"] === "postgresql" && !s.name.startsWith("connect"));
    };
    const miss = await queries();
    const hit = await queries();
    expect(miss.map((s) => s.name)).toContain("SELECT agents");
    expect(hit.map((s) => s.name)).not.toContain("SELECT agents");
    expect(hit.length).toBe(miss.length - 1);
  });

  it("keeps answering, from the database, with Redis unreachable", async () => {
    const { token } = await createTenant();
    const agent = await newAgent(token);
    // Not waiting for the request's background work: the failed invalidation retries there for seconds.
    const withRedisDown = async (method: string, path: string, body?: unknown) => {
      const request = new Request(`https://api.meridian.test${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }) as Request<unknown, IncomingRequestCfProperties>;
      const bindings = { ...env, UPSTASH_REDIS_REST_URL: "http://127.0.0.1:9" } as typeof env;
      const res = await worker.fetch(request, bindings, createExecutionContext());
      return { status: res.status, body: (await res.json()) as AgentResponse };
    };
    const started = Date.now();
    expect((await withRedisDown("GET", `/v1/agents/${agent.id}`)).body.name).toBe("support");
    expect((await withRedisDown("PATCH", `/v1/agents/${agent.id}`, { name: "edited" })).status).toBe(200);
    expect((await withRedisDown("GET", `/v1/agents/${agent.id}`)).body.name).toBe("edited");
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
