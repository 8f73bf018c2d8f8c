import { describe, expect, it } from "vitest";
import { api, type ProblemBody } from "../harness/api";
import { createTenant } from "../harness/fixtures";

interface OpenApiDoc {
  paths: Record<
    string,
    Record<string, { requestBody?: unknown; parameters?: { name: string; in: string }[] }>
  >;
}

const nasty: unknown[] = [
  null,
  [],
  "string",
  42,
  true,
  {},
  { name: "\u0000" },
  { name: "a\u0000b", model: "claude-sonnet-4-6" },
  { name: "🚀".repeat(300), model: "claude-sonnet-4-6" },
  { name: "\u202eevil\u202c", model: "claude-sonnet-4-6", metadata: { "\u0000": 1 } },
  {
    name: "x",
    model: "claude-sonnet-4-6",
    metadata: { deep: JSON.parse(`${"[".repeat(200)}${"]".repeat(200)}`) },
  },
  { name: "x".repeat(100_000) },
  { __proto__: { admin: true }, constructor: { prototype: { polluted: true } } },
  { slug: "../../etc/passwd", email: "a@b.c", password: "x".repeat(12), tenant: "%00" },
  { limit: -1, cursor: "💥", role: "superuser", value: Number.MAX_VALUE, big: 2 ** 63 },
];

describe("bad input never becomes a 5xx", () => {
  it("malformed JSON is a 400 problem", async () => {
    const { token } = await createTenant();
    const res = await api.post<ProblemBody>("/v1/agents", {
      token,
      raw: '{"name": "x",',
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(res.body.code).toBe("MALFORMED_JSON");
  });

  it("a body over the limit is a 413 problem, declared or streamed", async () => {
    const { token } = await createTenant();
    const big = JSON.stringify({
      name: "x",
      model: "claude-sonnet-4-6",
      systemPrompt: "y".repeat(1_100_000),
    });
    const declared = await api.post<ProblemBody>("/v1/agents", {
      token,
      raw: big,
      headers: { "content-type": "application/json" },
    });
    expect(declared.status).toBe(413);
    expect(declared.body.code).toBe("PAYLOAD_TOO_LARGE");
    const chunks = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 12; i++) controller.enqueue(new TextEncoder().encode("y".repeat(100_000)));
        controller.close();
      },
    });
    const streamed = await api.post<ProblemBody>("/v1/agents", {
      token,
      raw: chunks,
      headers: { "content-type": "application/json" },
    });
    expect(streamed.status).toBe(413);
  });

  it("a NUL character that PostgreSQL cannot store is a 400, not a 500", async () => {
    const { token } = await createTenant();
    const res = await api.post<ProblemBody>("/v1/agents", {
      token,
      body: { name: "a\u0000b", model: "claude-sonnet-4-6" },
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe("VALIDATION_FAILED");
  });

  it("JSON nested deeper than PostgreSQL can parse is a 400, not a 500", async () => {
    const { token } = await createTenant();
    const deep = JSON.parse(`${"[".repeat(15_000)}${"]".repeat(15_000)}`);
    for (const body of [
      {
        name: "deep",
        model: "claude-sonnet-4-6",
        tools: [{ name: "t", type: "builtin", config: { a: deep } }],
      },
      { name: "deep", model: "claude-sonnet-4-6", capabilities: [], metadata: { a: deep } },
    ]) {
      const res = await api.post<ProblemBody>("/v1/agents", { token, body });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe("VALIDATION_FAILED");
    }
  });

  it("odd but valid unicode round-trips intact", async () => {
    const { token } = await createTenant();
    const name = "Ağent 🚀 \u202eRTL\u202c 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 e\u0301";
    const res = await api.post<{ id: string; name: string }>("/v1/agents", {
      token,
      body: { name, model: "claude-sonnet-4-6" },
    });
    expect(res.status).toBe(201);
    const got = await api.get<{ name: string }>(`/v1/agents/${res.body.id}`, { token });
    expect(got.body.name).toBe(name);
  });

  it("fuzzes every operation in the OpenAPI document: always a problem or a success, never a 5xx", {
    timeout: 120_000,
  }, async () => {
    const { token } = await createTenant();
    const doc = (await api.get<OpenApiDoc>("/openapi.json")).body;
    let calls = 0;
    for (const [template, operations] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(operations)) {
        // Logging out would end the fixture's session halfway through the fuzz.
        if (template === "/v1/auth/logout") continue;
        const path = template.replace(/\{[^}]+\}/g, () => crypto.randomUUID());
        const variants = op.requestBody
          ? nasty.map((body) => ({ query: "", body }))
          : ["", "?limit=abc&cursor=%00", "?limit=100000&since=yesterday"].map((query) => ({
              query,
              body: undefined,
            }));
        const results = await Promise.all(
          variants.map(({ query, body }) =>
            api.call<ProblemBody>(method.toUpperCase(), `${path}${query}`, {
              token,
              ...(body === undefined ? {} : { body }),
            }),
          ),
        );
        results.forEach((res, i) => {
          calls++;
          const { query, body } = variants[i] ?? {};
          expect(
            res.status,
            `${method.toUpperCase()} ${path}${query} ${JSON.stringify(body)?.slice(0, 80)}`,
          ).toBeLessThan(500);
          if (res.status >= 400) {
            expect(res.headers.get("content-type")).toBe("application/problem+json");
            expect(res.body.code).toMatch(/^[A-Z_]+$/);
          }
        });
      }
    }
    expect(calls).toBeGreaterThan(100);
  });
});
