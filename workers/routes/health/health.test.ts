import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

describe("health", () => {
  it("GET /health answers ok with a request id", async () => {
    const res = await exports.default.fetch("https://api.test/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
    expect(res.headers.get("x-request-id")).toMatch(/^req_/);
  });

  it("echoes a caller's printable X-Request-Id and replaces an unprintable one", async () => {
    const ok = await exports.default.fetch("https://api.test/health", {
      headers: { "x-request-id": "abc-123" },
    });
    expect(ok.headers.get("x-request-id")).toBe("abc-123");
    const bad = await exports.default.fetch("https://api.test/health", {
      headers: { "x-request-id": "x".repeat(200) },
    });
    expect(bad.headers.get("x-request-id")).toMatch(/^req_/);
  });

  it("GET /health/ready reaches PostgreSQL and Redis", async () => {
    const res = await exports.default.fetch("https://api.test/health/ready");
    const body = (await res.json()) as { status: string; database: { ok: boolean }; redis: { ok: boolean } };
    expect(body).toMatchObject({ status: "ready", database: { ok: true }, redis: { ok: true } });
    expect(res.status).toBe(200);
  });

  it("unknown paths are a 404 problem document", async () => {
    const res = await exports.default.fetch("https://api.test/nope");
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(await res.json()).toMatchObject({ code: "NOT_FOUND", status: 404, instance: "/nope" });
  });
});
