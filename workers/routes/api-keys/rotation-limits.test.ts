import { describe, expect, it } from "vitest";
import { api, type ProblemBody } from "../../../test/harness/api";
import { createTenant } from "../../../test/harness/fixtures";
import type { ApiKeyResponse } from "./schemas";

/** Limits on rotation and revocation: rank (a rotation hands out the same role) and one successor per key. */
describe("API key rotation and revocation limits", () => {
  it("cannot be rotated or revoked by a member, and can by the owner", async () => {
    const fixture = await createTenant();
    const ownerKey = await fixture.keyWithRole("owner");
    const memberKey = await fixture.keyWithRole("member");
    const keys = await api.get<{ data: ApiKeyResponse[] }>("/v1/api-keys", { token: fixture.token });
    const ownerKeyId = keys.body.data.find((k) => k.role === "owner")?.id;
    expect(ownerKeyId).toBeDefined();

    const rotate = await api.post<ProblemBody>(`/v1/api-keys/${ownerKeyId}/rotate`, {
      token: memberKey,
      body: {},
    });
    expect(rotate.status).toBe(403);
    expect(rotate.body.code).toBe("FORBIDDEN");
    const revoke = await api.delete<ProblemBody>(`/v1/api-keys/${ownerKeyId}`, { token: memberKey });
    expect(revoke.status).toBe(403);
    expect((await api.get("/v1/audit-logs", { token: ownerKey })).status).toBe(200);

    const byOwner = await api.post<{ role: string }>(`/v1/api-keys/${ownerKeyId}/rotate`, {
      token: fixture.token,
      body: {},
    });
    expect(byOwner.status).toBe(201);
    expect(byOwner.body.role).toBe("owner");
  });

  it("rotates a key once: a second rotation, even a concurrent one, is 409", async () => {
    const fixture = await createTenant();
    await fixture.keyWithRole("member");
    const keys = await api.get<{ data: ApiKeyResponse[] }>("/v1/api-keys", { token: fixture.token });
    const id = keys.body.data[0]?.id;
    const [a, b] = await Promise.all([
      api.post(`/v1/api-keys/${id}/rotate`, { token: fixture.token, body: {} }),
      api.post(`/v1/api-keys/${id}/rotate`, { token: fixture.token, body: {} }),
    ]);
    expect([a.status, b.status].sort()).toEqual([201, 409]);
    const again = await api.post<ProblemBody>(`/v1/api-keys/${id}/rotate`, {
      token: fixture.token,
      body: {},
    });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe("CONFLICT");
  });
});
