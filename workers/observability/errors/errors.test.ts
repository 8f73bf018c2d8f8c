import {
  createExecutionContext,
  createMessageBatch,
  getQueueResult,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import type { JobMessage } from "../../../queues/jobs/message";
import { createTenant, PLATFORM_ADMIN_TOKEN } from "../../../test/harness/fixtures";
import {
  eventually,
  OTLP_URL,
  receivedSpans,
  requestSpan,
  SENTRY_URL,
  sentryEvents,
  settleTracing,
} from "../../../test/harness/observability";
import worker from "../../index";

type Bindings = typeof env;
const bindings = env as unknown as Record<string, string>;

/** The same deployment with a database that does not exist: every query fails unexpectedly. */
function brokenDatabase(base: Bindings = env): Bindings {
  const url = new URL(bindings.DATABASE_URL as string);
  url.pathname = `/meridian_missing_${crypto.randomUUID().slice(0, 8)}`;
  return { ...base, DATABASE_URL: url.toString() } as Bindings;
}

/** Calls the Worker entry with `bindings` and waits for its background work. */
async function call(
  bindings: Bindings,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown } = {},
): Promise<{ status: number; requestId: string }> {
  const headers = new Headers({ "cf-connecting-ip": `198.18.${Math.floor(Math.random() * 250)}.7` });
  if (opts.token) headers.set("authorization", `Bearer ${opts.token}`);
  if (opts.body !== undefined) headers.set("content-type", "application/json");
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request(`https://api.meridian.test${path}`, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    }) as Request<unknown, IncomingRequestCfProperties>,
    bindings,
    ctx,
  );
  await res.arrayBuffer();
  await waitOnExecutionContext(ctx);
  return { status: res.status, requestId: res.headers.get("x-request-id") as string };
}

/** A tenant and its owner's access token, made through `bindings` (so untraced when they say so). */
async function untracedTenant(bindings: Bindings): Promise<string> {
  const slug = `off-${crypto.randomUUID().slice(0, 8)}`;
  const owner = { email: `owner@${slug}.example.com`, password: `pw-${crypto.randomUUID()}` };
  const post = async (path: string, body: unknown, token?: string) => {
    const ctx = createExecutionContext();
    const res = await worker.fetch(
      new Request(`https://api.meridian.test${path}`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "cf-connecting-ip": "198.18.0.9",
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(body),
      }) as Request<unknown, IncomingRequestCfProperties>,
      bindings,
      ctx,
    );
    const json = (await res.json()) as { accessToken?: string };
    await waitOnExecutionContext(ctx);
    return json;
  };
  await post("/v1/tenants", { slug, name: slug, owner }, PLATFORM_ADMIN_TOKEN);
  const login = await post("/v1/auth/login", { tenant: slug, ...owner });
  return login.accessToken as string;
}

interface SentryEvent {
  tags: Record<string, string>;
  environment: string;
  exception: { values: { type: string; value: string; stacktrace?: { frames: unknown[] } }[] };
  contexts: { trace?: { trace_id: string } };
}

describe("error reporting", () => {
  it("sends nothing to a collector or Sentry when neither is configured", async () => {
    const unset = ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_HEADERS", "SENTRY_DSN"];
    const off = {
      ...Object.fromEntries(Object.entries(env).filter(([key]) => !unset.includes(key))),
      LOG_LEVEL: "info",
    } as unknown as Bindings;
    await settleTracing();
    const outbound: string[] = [];
    const lines: string[] = [];
    const realFetch = globalThis.fetch;
    const fetchSpy = vi.spyOn(globalThis, "fetch").mockImplementation((input, init) => {
      outbound.push(input instanceof Request ? input.url : String(input));
      return realFetch(input, init);
    });
    const logSpy = vi.spyOn(console, "log").mockImplementation((line: unknown) => {
      lines.push(String(line));
    });
    const quiet = [
      vi.spyOn(console, "warn").mockImplementation(() => undefined),
      vi.spyOn(console, "error").mockImplementation(() => undefined),
    ];
    let ok: { status: number; requestId: string };
    let failed: { status: number; requestId: string };
    try {
      const token = await untracedTenant(off);
      ok = await call(off, "GET", "/v1/agents", { token });
      failed = await call(brokenDatabase(off), "PUT", "/v1/secrets/GITHUB_TOKEN", {
        token,
        body: { value: "v" },
      });
      const batch = createMessageBatch<unknown>("meridian-jobs", [
        {
          id: `m-${crypto.randomUUID()}`,
          timestamp: new Date(),
          attempts: 1,
          body: {
            type: "mcp_health_check",
            tenantId: crypto.randomUUID(),
            requestedAt: new Date().toISOString(),
          },
        },
      ]);
      const ctx = createExecutionContext();
      await worker.queue(batch, brokenDatabase(off), ctx);
      await waitOnExecutionContext(ctx);
    } finally {
      fetchSpy.mockRestore();
      logSpy.mockRestore();
      for (const spy of quiet) spy.mockRestore();
    }
    expect(ok.status).toBe(200);
    expect(failed.status).toBe(500);
    expect(outbound.filter((url) => url.startsWith(OTLP_URL) || url.startsWith(SENTRY_URL))).toEqual([]);
    for (const { requestId } of [ok, failed]) {
      expect(await receivedSpans({ attributes: { "meridian.request_id": requestId } })).toEqual([]);
      expect(await sentryEvents({ request_id: requestId })).toEqual([]);
    }
    // Log lines still carry the request id; with no trace, no trace id.
    const access = lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((line) => line.msg === "request" && line.requestId === ok.requestId);
    expect(access).toBeDefined();
    expect(access).not.toHaveProperty("traceId");
  });
  it("reports an unexpected error to Sentry with the request id, tenant, route and trace id", async () => {
    const { token, tenant } = await createTenant();
    const secret = `sk-live-${crypto.randomUUID()}`;
    const failed = await call(brokenDatabase(), "PUT", "/v1/secrets/GITHUB_TOKEN", {
      token,
      body: { value: secret },
    });
    expect(failed.status).toBe(500);

    const root = await requestSpan(failed.requestId);
    // The trace shows where it broke: the connection, with the database's SQLSTATE only.
    const connects = await receivedSpans({ traceId: root.traceId, name: "connect postgresql" });
    expect(connects.map((s) => s.status.code)).toContain(2);
    expect(connects.flatMap((s) => s.events.map((e) => e.attributes["exception.message"]))).toContain(
      "SQLSTATE 3D000",
    );
    const [item, ...more] = await eventually(
      () => sentryEvents({ request_id: failed.requestId }),
      (events) => events.length > 0,
    );
    expect(more).toEqual([]);
    expect(item?.project).toBe("42");
    const event = item?.payload as SentryEvent;
    expect(event.tags).toEqual({
      source: "http",
      request_id: failed.requestId,
      tenant_id: tenant.id,
      route: "/v1/secrets/:name",
      method: "PUT",
      trace_id: root.traceId,
    });
    expect(event.environment).toBe("test");
    expect(event.contexts.trace?.trace_id).toBe(root.traceId);
    expect(event.exception.values.at(-1)?.stacktrace?.frames.length).toBeGreaterThan(0);
    // The event carries the error and our ids, nothing from the request.
    const sent = JSON.stringify(item);
    expect(sent).not.toContain(secret);
    expect(sent).not.toContain(token);
  });

  it.each([
    ["404", (token: string) => call(env, "GET", `/v1/agents/${crypto.randomUUID()}`, { token }), 404],
    [
      "422",
      (token: string) => call(env, "POST", "/v1/agents", { token, body: { name: "x", model: "gpt-9" } }),
      422,
    ],
  ])("does not report a client error (%s)", async (_, send, status) => {
    const { token } = await createTenant();
    const res = await send(token);
    expect(res.status).toBe(status);
    // Exported once the request's background work is done, reports included.
    await requestSpan(res.requestId);
    expect(await sentryEvents({ request_id: res.requestId })).toEqual([]);
  });

  it("reports a queue job that throws, tagged with the job type and tenant", async () => {
    const { tenant } = await createTenant();
    const job: JobMessage = {
      type: "rag_ingest",
      tenantId: tenant.id,
      documentId: crypto.randomUUID(),
      generation: 1,
    };
    const messageId = `m-${crypto.randomUUID()}`;
    const batch = createMessageBatch<unknown>("meridian-jobs", [
      { id: messageId, timestamp: new Date(), attempts: 1, body: job },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, brokenDatabase(), ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.retryMessages.map((m: { msgId: string }) => m.msgId)).toEqual([messageId]);

    const [item] = await eventually(
      () => sentryEvents({ source: "queue", tenant_id: tenant.id }),
      (events) => events.length > 0,
    );
    const event = item?.payload as SentryEvent;
    expect(event.tags).toMatchObject({ job_type: "rag_ingest", tenant_id: tenant.id });
    // The report names the job's span: the root of a trace of its own (nothing traced queued it).
    const [span] = await receivedSpans({ traceId: event.tags.trace_id, name: "process rag_ingest" });
    expect(span?.attributes["messaging.message.id"]).toBe(messageId);
    expect(span?.parentSpanId).toBe("");
  });
});
