import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";
import worker from "../../workers/index";
import type { CreatedApiKeyResponse } from "../../workers/routes/api-keys/schemas";
import type { TokenPair } from "../../workers/routes/auth/schemas";
import { PLATFORM_ADMIN_TOKEN } from "../harness/fixtures";

type Bindings = typeof env;
const bindings = env as unknown as Record<string, string>;

/** The most talkative configuration: every line the code can write is written. */
const debugEnv = { ...env, LOG_LEVEL: "debug" } as Bindings;

/** Same, with a database that does not exist: every query fails with an error the code does not expect. */
const brokenDbUrl = new URL(bindings.DATABASE_URL as string);
brokenDbUrl.pathname = `/meridian_missing_${crypto.randomUUID().slice(0, 8)}`;
const brokenDbEnv = { ...debugEnv, DATABASE_URL: brokenDbUrl.toString() } as Bindings;

interface Sent {
  requestId: string;
  method: string;
  status: number;
}

const CONSOLE_METHODS = ["log", "info", "warn", "error", "debug"] as const;

function render(arg: unknown): string {
  if (typeof arg === "string") return arg;
  if (arg instanceof Error) return `${arg.name}: ${arg.message}\n${arg.stack ?? ""}`;
  try {
    return JSON.stringify(arg) ?? String(arg);
  } catch {
    return String(arg);
  }
}

/** The secret parts of a `kid:secret,kid:secret` binding. */
function keyringSecrets(value: string | undefined): string[] {
  return (value ?? "").split(",").map((pair) => pair.slice(pair.indexOf(":") + 1));
}

describe("logs", () => {
  let lines: string[];
  let spies: MockInstance[];
  const sent: Sent[] = [];

  beforeEach(() => {
    lines = [];
    sent.length = 0;
    spies = CONSOLE_METHODS.map((method) =>
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        lines.push(args.map(render).join(" "));
      }),
    );
  });

  afterEach(() => {
    for (const spy of spies) spy.mockRestore();
  });

  /** Calls the Worker directly with a debug-level env, as production would, and waits for its background work. */
  async function call<T>(
    method: string,
    path: string,
    opts: { token?: string; body?: unknown; raw?: string; env?: Bindings } = {},
  ): Promise<{ status: number; body: T }> {
    const headers = new Headers({ "cf-connecting-ip": `192.0.2.${sent.length + 1}` });
    if (opts.token) headers.set("authorization", `Bearer ${opts.token}`);
    const body = opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
    if (body !== undefined) headers.set("content-type", "application/json");
    const request = new Request(`https://api.meridian.test${path}`, { method, headers, body }) as Request<
      unknown,
      IncomingRequestCfProperties
    >;
    const ctx = createExecutionContext();
    const res = await worker.fetch(request, opts.env ?? debugEnv, ctx);
    const text = await res.text();
    await waitOnExecutionContext(ctx);
    const requestId = res.headers.get("x-request-id");
    expect(requestId).toBeTruthy();
    sent.push({ requestId: requestId as string, method, status: res.status });
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  }

  it("never contain a password, token, API key or secret value, even on errors", async () => {
    const slug = `logs-${crypto.randomUUID().slice(0, 8)}`;
    const email = `owner@${slug}.example.com`;
    const password = `pw-correct-${crypto.randomUUID()}`;
    const wrongPassword = `pw-wrong-${crypto.randomUUID()}`;
    const secretValue = `sk-live-${crypto.randomUUID()}`;
    const malformedSecret = `sk-malformed-${crypto.randomUUID()}`;
    const secretDuringFailure = `sk-failure-${crypto.randomUUID()}`;

    const created = await call("POST", "/v1/tenants", {
      token: PLATFORM_ADMIN_TOKEN,
      body: { slug, name: "Logs", owner: { email, password } },
    });
    expect(created.status).toBe(201);

    const login = await call<TokenPair>("POST", "/v1/auth/login", {
      body: { tenant: slug, email, password },
    });
    expect(login.status).toBe(200);
    const refreshed = await call<TokenPair>("POST", "/v1/auth/refresh", {
      body: { refreshToken: login.body.refreshToken },
    });
    expect(refreshed.status).toBe(200);
    const token = refreshed.body.accessToken;

    const key = await call<CreatedApiKeyResponse>("POST", "/v1/api-keys", { token, body: { name: "ci" } });
    expect(key.status).toBe(201);
    expect((await call("GET", "/v1/agents", { token: key.body.key })).status).toBe(200);

    const put = await call("PUT", "/v1/secrets/GITHUB_TOKEN", { token, body: { value: secretValue } });
    expect(put.status).toBe(201);

    const badLogin = await call("POST", "/v1/auth/login", {
      body: { tenant: slug, email, password: wrongPassword },
    });
    expect(badLogin.status).toBe(401);

    const malformedPut = await call<{ code: string }>("PUT", "/v1/secrets/OTHER_TOKEN", {
      token,
      raw: `{"value": "${malformedSecret}"`,
    });
    expect(malformedPut.status).toBe(400);
    expect(malformedPut.body.code).toBe("MALFORMED_JSON");
    const malformedLogin = await call<{ code: string }>("POST", "/v1/auth/login", {
      raw: `{"tenant": "${slug}", "email": "${email}", "password": "${password}",`,
    });
    expect(malformedLogin.status).toBe(400);

    const failed = await call<{ code: string }>("PUT", "/v1/secrets/GITHUB_TOKEN", {
      token,
      body: { value: secretDuringFailure },
      env: brokenDbEnv,
    });
    expect(failed.status).toBe(500);
    expect(failed.body.code).toBe("INTERNAL");

    const secrets: Record<string, string> = {
      password,
      wrongPassword,
      "login access token": login.body.accessToken,
      "login refresh token": login.body.refreshToken,
      "refreshed access token": refreshed.body.accessToken,
      "refreshed refresh token": refreshed.body.refreshToken,
      "API key": key.body.key,
      secretValue,
      malformedSecret,
      secretDuringFailure,
      "platform admin token": PLATFORM_ADMIN_TOKEN,
      "password pepper": bindings.PASSWORD_PEPPER as string,
      "database password": decodeURIComponent(new URL(bindings.DATABASE_URL as string).password),
      ...Object.fromEntries(keyringSecrets(bindings.AUTH_JWT_SECRETS).map((s, i) => [`JWT secret ${i}`, s])),
      ...Object.fromEntries(
        keyringSecrets(bindings.SECRETS_MASTER_KEYS).map((s, i) => [`secrets master key ${i}`, s]),
      ),
    };
    for (const [label, value] of Object.entries(secrets)) {
      expect(value.length, `${label} is too short to search for`).toBeGreaterThanOrEqual(8);
      const leaks = lines.filter((line) => line.includes(value));
      expect(leaks, `${label} appears in the logs`).toEqual([]);
    }

    const entries = lines.map((line) => {
      const parsed = (() => {
        try {
          return JSON.parse(line) as unknown;
        } catch {
          return undefined;
        }
      })();
      expect(parsed, `not a JSON object: ${line}`).toEqual(expect.any(Object));
      return parsed as Record<string, unknown>;
    });
    for (const request of sent) {
      const access = entries.filter((e) => e.msg === "request" && e.requestId === request.requestId);
      expect(access, `access lines for ${request.method} ${request.requestId}`).toHaveLength(1);
      expect(access[0]).toMatchObject({
        level: "info",
        requestId: request.requestId,
        method: request.method,
        route: expect.stringMatching(/^\/v1\//),
        status: request.status,
        durationMs: expect.any(Number),
      });
    }
    // The 500 was an unexpected error, logged once with its details (which must not carry the body).
    const failure = sent.at(-1);
    const errors = entries.filter((e) => e.level === "error" && e.requestId === failure?.requestId);
    expect(errors.map((e) => e.msg)).toEqual(["unhandled error"]);
  });
});
