import { expect } from "vitest";
import type { Role } from "../../workers/auth/roles";
import { api, type ProblemBody } from "./api";
import type { TenantFixture } from "./fixtures";

export interface RouteUnderTest {
  method: "get" | "post" | "patch" | "put" | "delete";
  path: string;
  body?: unknown;
}

/**
 * The authorization matrix every protected route must pass: no credential, a garbage one and
 * a forged JWT are 401 problems with a Bearer challenge.
 */
export async function expectAuthRequired(route: RouteUnderTest): Promise<void> {
  const attempts: (string | undefined)[] = [
    undefined,
    "not-a-token",
    "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
    "mk_00000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
  ];
  for (const token of attempts) {
    const res = await api[route.method]<ProblemBody>(
      route.path,
      token ? { token, body: route.body } : { body: route.body },
    );
    expect(res.status, `token ${token ?? "(none)"}`).toBe(401);
    expect(res.body).toMatchObject({ code: "UNAUTHENTICATED", status: 401 });
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
  }
}

/** Each role in `denied` gets 403 FORBIDDEN; each in `allowed` gets past authorization. */
export async function expectRoles(
  fixture: TenantFixture,
  route: RouteUnderTest,
  roles: { allowed: Role[]; denied: Role[] },
): Promise<void> {
  for (const role of roles.denied) {
    const token = await fixture.keyWithRole(role);
    const res = await api[route.method]<ProblemBody>(route.path, { token, body: route.body });
    expect(res.status, `${role} should be denied`).toBe(403);
    expect(res.body.code).toBe("FORBIDDEN");
  }
  for (const role of roles.allowed) {
    const token = await fixture.keyWithRole(role);
    const res = await api[route.method]<ProblemBody>(route.path, { token, body: route.body });
    expect([401, 403], `${role} should be allowed, got ${res.status}`).not.toContain(res.status);
  }
}
