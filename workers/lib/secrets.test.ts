import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { tenantSecrets } from "../../db/schema";
import { createTenant } from "../../test/harness/fixtures";
import { withTenantDb } from "../routes/conversations/test-fixtures";
import { randomBytes, toHex } from "./bytes";
import { ApiError } from "./errors";
import { deleteSecret, getSecretValue, listSecretNames, putSecret, rewrapSecrets } from "./secrets";

function base64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}

// Keys of this file's own, so rotation can be exercised without touching the Worker's config.
const keyA = `A:${base64(randomBytes(32))}`;
const keyB = `B:${base64(randomBytes(32))}`;
const onlyA = { SECRETS_MASTER_KEYS: keyA };
const bThenA = { SECRETS_MASTER_KEYS: `${keyB},${keyA}` };
const onlyB = { SECRETS_MASTER_KEYS: keyB };

describe("secrets library", () => {
  it("puts, gets, lists and deletes, telling create from replace", async () => {
    const { tenant } = await createTenant();
    await withTenantDb(tenant.id, async (db) => {
      const first = await putSecret(db, onlyA, "MCP_TOKEN", "one");
      expect(first.created).toBe(true);
      expect(first.secret).toMatchObject({ name: "MCP_TOKEN", keyId: "A" });
      const second = await putSecret(db, onlyA, "MCP_TOKEN", "two");
      expect(second.created).toBe(false);
      expect(second.secret.id).toBe(first.secret.id);
      expect(await getSecretValue(db, onlyA, "MCP_TOKEN")).toBe("two");
      expect(await getSecretValue(db, onlyA, "NOT_SET")).toBeNull();

      await putSecret(db, onlyA, "OTHER", "x");
      const names = await listSecretNames(db);
      expect(names.map((s) => s.name)).toEqual(["OTHER", "MCP_TOKEN"]);
      expect(names.every((s) => !("value" in s) && !("ciphertext" in s))).toBe(true);
      const page = await listSecretNames(db, { limit: 1, after: names[0]?.id });
      expect(page.map((s) => s.name)).toEqual(["MCP_TOKEN"]);

      expect((await deleteSecret(db, "MCP_TOKEN"))?.name).toBe("MCP_TOKEN");
      expect(await deleteSecret(db, "MCP_TOKEN")).toBeNull();
      expect(await getSecretValue(db, onlyA, "MCP_TOKEN")).toBeNull();
    });
  });

  it("refuses an invalid name before touching the database", async () => {
    const { tenant } = await createTenant();
    await withTenantDb(tenant.id, async (db) => {
      await expect(putSecret(db, onlyA, "no-dashes", "v")).rejects.toThrow(/invalid secret name/);
    });
  });

  it("rewraps every data key under the new master key, leaving the values untouched", async () => {
    const { tenant } = await createTenant();
    const before = await withTenantDb(tenant.id, async (db) => {
      await putSecret(db, onlyA, "ONE", "first value");
      await putSecret(db, onlyA, "TWO", "second value");
      return db.select().from(tenantSecrets).where(eq(tenantSecrets.tenantId, tenant.id));
    });

    const rewrapped = await withTenantDb(tenant.id, (db) => rewrapSecrets(db, bThenA));
    expect(rewrapped).toBe(2);
    const after = await withTenantDb(tenant.id, (db) =>
      db.select().from(tenantSecrets).where(eq(tenantSecrets.tenantId, tenant.id)),
    );
    for (const row of after) {
      const old = before.find((r) => r.id === row.id);
      expect(row.keyId).toBe("B");
      expect(toHex(row.ciphertext)).toBe(toHex(old?.ciphertext as Uint8Array));
      expect(toHex(row.iv)).toBe(toHex(old?.iv as Uint8Array));
      expect(toHex(row.wrappedDek)).not.toBe(toHex(old?.wrappedDek as Uint8Array));
      expect(row.updatedAt.getTime()).toBe(old?.updatedAt.getTime());
    }

    // The old key can now be dropped from the config.
    await withTenantDb(tenant.id, async (db) => {
      expect(await getSecretValue(db, onlyB, "ONE")).toBe("first value");
      expect(await getSecretValue(db, onlyB, "TWO")).toBe("second value");
      expect(await rewrapSecrets(db, bThenA)).toBe(0);
      await expect(getSecretValue(db, onlyA, "ONE")).rejects.toMatchObject({ code: "BAD_ENVIRONMENT" });
    });
  });

  it("cannot open a value copied into another tenant", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const [row] = await withTenantDb(a.tenant.id, async (db) => {
      await putSecret(db, onlyA, "TOKEN", "a's value");
      return db.select().from(tenantSecrets).where(eq(tenantSecrets.tenantId, a.tenant.id));
    });
    if (!row) throw new Error("no row");
    await withTenantDb(b.tenant.id, async (db) => {
      expect(await getSecretValue(db, onlyA, "TOKEN")).toBeNull();
      await db.insert(tenantSecrets).values({
        tenantId: b.tenant.id,
        name: "TOKEN",
        keyId: row.keyId,
        iv: row.iv,
        ciphertext: row.ciphertext,
        wrappedDek: row.wrappedDek,
      });
      const error = await getSecretValue(db, onlyA, "TOKEN").catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ApiError);
      expect(error).toMatchObject({ code: "INTERNAL" });
    });
  });
});
