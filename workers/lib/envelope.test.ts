import { describe, expect, it, test } from "vitest";
import { randomBytes, toHex } from "./bytes";
import { open, rewrap, type SealedSecret, seal } from "./envelope";

function base64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}

// Fresh keys per run: nothing here may depend on a particular key's bytes.
const keyA = base64(randomBytes(32));
const keyB = base64(randomBytes(32));
const onlyA = `A:${keyA}`;
const bThenA = `B:${keyB},A:${keyA}`;
const onlyB = `B:${keyB}`;
const ctx = { tenantId: "0193a1b2-0000-7000-8000-000000000001", name: "github-token" };

function flipBit(bytes: Uint8Array, index: number): Uint8Array {
  const copy = bytes.slice();
  const at = index < 0 ? copy.length + index : index;
  copy[at] = (copy[at] ?? 0) ^ 0x01;
  return copy;
}

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  return toHex(haystack).includes(toHex(needle));
}

describe("seal / open", () => {
  test.each([
    ["ascii", "ghp_0123456789abcdefghijklmnopqrstuvwxyz"],
    ["empty", ""],
    ["unicode", "pässwörd 🔑 秘密"],
    ["leading byte-order mark", "\uFEFFvalue"],
    ["large", "x".repeat(64 * 1024)],
  ])("round-trips a %s value", async (_label, plaintext) => {
    const sealed = await seal(onlyA, ctx, plaintext);
    expect(await open(onlyA, ctx, sealed)).toBe(plaintext);
  });

  it("uses a fresh data key and IV every time", async () => {
    const one = await seal(onlyA, ctx, "same");
    const two = await seal(onlyA, ctx, "same");
    expect(toHex(one.iv)).not.toBe(toHex(two.iv));
    expect(toHex(one.ciphertext)).not.toBe(toHex(two.ciphertext));
    expect(toHex(one.wrappedDek)).not.toBe(toHex(two.wrappedDek));
  });

  it("has the documented layout", async () => {
    const sealed = await seal(onlyA, ctx, "abcd");
    expect(sealed.keyId).toBe("A");
    expect(sealed.iv.byteLength).toBe(12);
    expect(sealed.ciphertext.byteLength).toBe(4 + 16);
    expect(sealed.wrappedDek.byteLength).toBe(12 + 32 + 16);
  });

  it("never puts the plaintext in the sealed bytes", async () => {
    const plaintext = "sk-live-PLAINTEXT-MARKER-4242";
    const sealed = await seal(onlyA, ctx, plaintext);
    const needle = new TextEncoder().encode(plaintext);
    for (const field of [sealed.iv, sealed.ciphertext, sealed.wrappedDek]) {
      expect(contains(field, needle)).toBe(false);
      expect(contains(field, needle.subarray(0, 8))).toBe(false);
    }
    expect(JSON.stringify(sealed)).not.toContain("PLAINTEXT");
  });
});

describe("open refuses", () => {
  let sealed: SealedSecret;
  const tampered: [string, (s: SealedSecret) => SealedSecret][] = [
    ["iv", (s) => ({ ...s, iv: flipBit(s.iv, 0) })],
    ["ciphertext body", (s) => ({ ...s, ciphertext: flipBit(s.ciphertext, 0) })],
    ["ciphertext tag", (s) => ({ ...s, ciphertext: flipBit(s.ciphertext, -1) })],
    ["ciphertext truncated", (s) => ({ ...s, ciphertext: s.ciphertext.subarray(0, -1) })],
    ["wrap IV", (s) => ({ ...s, wrappedDek: flipBit(s.wrappedDek, 0) })],
    ["wrapped key", (s) => ({ ...s, wrappedDek: flipBit(s.wrappedDek, 20) })],
    ["wrap tag", (s) => ({ ...s, wrappedDek: flipBit(s.wrappedDek, -1) })],
    ["wrapped key truncated", (s) => ({ ...s, wrappedDek: s.wrappedDek.subarray(0, -1) })],
    ["iv length", (s) => ({ ...s, iv: new Uint8Array([...s.iv, 0]) })],
    ["keyId pointing at the other key", (s) => ({ ...s, keyId: "A" })],
  ];

  test.each(tampered)("a value with a flipped %s", async (_field, tamper) => {
    sealed ??= await seal(bThenA, ctx, "secret value");
    // Sealed under B (the current key); A is also configured, so a keyId swap finds a real key.
    expect(await open(bThenA, ctx, sealed)).toBe("secret value");
    await expect(open(bThenA, ctx, tamper(sealed))).rejects.toMatchObject({ code: "INTERNAL" });
  });

  test.each([
    ["another tenant", { ...ctx, tenantId: "0193a1b2-0000-7000-8000-000000000002" }],
    ["another name", { ...ctx, name: "slack-token" }],
    ["a name shifted into the tenant id", { tenantId: `${ctx.tenantId}","github`, name: "token" }],
  ])("a value moved to %s", async (_label, other) => {
    const value = await seal(onlyA, ctx, "secret value");
    await expect(open(onlyA, other, value)).rejects.toMatchObject({ code: "INTERNAL" });
  });

  it("a value whose master key is no longer configured", async () => {
    const value = await seal(onlyA, ctx, "secret value");
    await expect(open(onlyB, ctx, value)).rejects.toMatchObject({
      code: "BAD_ENVIRONMENT",
      message: expect.stringContaining('"A"'),
    });
    await expect(open(onlyA, ctx, { ...value, keyId: "Z" })).rejects.toMatchObject({
      code: "BAD_ENVIRONMENT",
    });
  });
});

describe("rotation", () => {
  it("moves a value from key A to key B without touching its ciphertext", async () => {
    const underA = await seal(onlyA, ctx, "rotate me");
    expect(underA.keyId).toBe("A");

    // Step 1: deploy "B first, A still listed". Old values still open; new ones use B.
    expect(await open(bThenA, ctx, underA)).toBe("rotate me");
    expect((await seal(bThenA, ctx, "new")).keyId).toBe("B");

    // Step 2: the rotation job re-wraps every row.
    const underB = await rewrap(bThenA, underA);
    expect(underB.keyId).toBe("B");
    expect(underB.iv).toEqual(underA.iv);
    expect(underB.ciphertext).toEqual(underA.ciphertext);
    expect(toHex(underB.wrappedDek)).not.toBe(toHex(underA.wrappedDek));

    // Step 3: drop A from config.
    expect(await open(onlyB, ctx, underB)).toBe("rotate me");
    await expect(open(onlyB, ctx, underA)).rejects.toMatchObject({ code: "BAD_ENVIRONMENT" });
  });

  it("returns the same object for a value already under the current key", async () => {
    const underB = await seal(onlyB, ctx, "already current");
    expect(await rewrap(bThenA, underB)).toBe(underB);
  });

  it("refuses to rewrap a tampered or orphaned data key", async () => {
    const underA = await seal(onlyA, ctx, "x");
    await expect(
      rewrap(bThenA, { ...underA, wrappedDek: flipBit(underA.wrappedDek, 30) }),
    ).rejects.toMatchObject({
      code: "INTERNAL",
    });
    await expect(rewrap(onlyB, underA)).rejects.toMatchObject({ code: "BAD_ENVIRONMENT" });
  });
});

describe("SECRETS_MASTER_KEYS parsing", () => {
  const short = base64(randomBytes(16));
  test.each([
    ["empty", " , "],
    ["no colon", keyA],
    ["empty kid", `:${keyA}`],
    ["kid with spaces", `my key:${keyA}`],
    ["not base64", "A:not*base64!"],
    ["16-byte key", `A:${short}`],
    ["duplicate kid", `A:${keyA},A:${keyB}`],
  ])("refuses %s without echoing key material", async (_label, config) => {
    const err = await seal(config, ctx, "x").catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "BAD_ENVIRONMENT" });
    const detail = (err as Error).message;
    for (const material of [keyA, keyB, short]) expect(detail).not.toContain(material);
  });

  it("tolerates whitespace around entries", async () => {
    const spaced = ` B : ${keyB} ,\n A:${keyA} `;
    const sealed = await seal(spaced, ctx, "spaced");
    expect(sealed.keyId).toBe("B");
    expect(await open(bThenA, ctx, sealed)).toBe("spaced");
  });

  it("recovers once a bad config is fixed", async () => {
    await expect(seal("A:broken", ctx, "x")).rejects.toMatchObject({ code: "BAD_ENVIRONMENT" });
    expect((await seal(onlyA, ctx, "x")).keyId).toBe("A");
  });
});
