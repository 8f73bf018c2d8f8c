import { describe, expect, it } from "vitest";
import { signWebhook, verifyWebhookSignature } from "./sign";
import { newSigningSecret } from "./signing-key";

const T = 1_700_000_000;
const NOW = T * 1000;
const BODY = '{"id":"evt_1"}';

describe("signWebhook", () => {
  it("is t=<unix>,v1=<hex HMAC-SHA256(secret, '<t>.<body>')> (checked against Node's crypto)", async () => {
    expect(await signWebhook("whsec_test", BODY, T)).toBe(
      "t=1700000000,v1=c89214b5b5da833daed6f0b8c5bb6bd58cea9022bd80ccc78230f3942d632925",
    );
  });

  it("mints whsec_ secrets of 32 random bytes", () => {
    const a = newSigningSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(newSigningSecret()).not.toBe(a);
  });
});

describe("verifyWebhookSignature", () => {
  it("accepts its own signature, and any of several secrets (rotation)", async () => {
    const header = await signWebhook("whsec_new", BODY, T);
    expect(await verifyWebhookSignature("whsec_new", header, BODY, { now: NOW })).toBe(true);
    expect(await verifyWebhookSignature(["whsec_old", "whsec_new"], header, BODY, { now: NOW })).toBe(true);
    expect(await verifyWebhookSignature(["whsec_old"], header, BODY, { now: NOW })).toBe(false);
  });

  it("refuses a changed body, a changed timestamp and a wrong secret", async () => {
    const header = await signWebhook("whsec_a", BODY, T);
    expect(await verifyWebhookSignature("whsec_a", header, '{"id":"evt_2"}', { now: NOW })).toBe(false);
    expect(await verifyWebhookSignature("whsec_a", header, `${BODY} `, { now: NOW })).toBe(false);
    const shifted = header.replace(`t=${T}`, `t=${T + 1}`);
    expect(await verifyWebhookSignature("whsec_a", shifted, BODY, { now: NOW })).toBe(false);
    expect(await verifyWebhookSignature("whsec_b", header, BODY, { now: NOW })).toBe(false);
  });

  it("refuses timestamps outside the tolerance, either way", async () => {
    const header = await signWebhook("whsec_a", BODY, T);
    expect(await verifyWebhookSignature("whsec_a", header, BODY, { now: NOW + 300_000 })).toBe(true);
    expect(await verifyWebhookSignature("whsec_a", header, BODY, { now: NOW + 301_000 })).toBe(false);
    expect(await verifyWebhookSignature("whsec_a", header, BODY, { now: NOW - 301_000 })).toBe(false);
    expect(
      await verifyWebhookSignature("whsec_a", header, BODY, { now: NOW + 3_600_000, toleranceSec: 3600 }),
    ).toBe(true);
  });

  it("finds the matching v1 among several and skips unknown schemes", async () => {
    const good = (await signWebhook("whsec_a", BODY, T)).split(",v1=")[1];
    const header = `t=${T},v0=legacy,v1=${"0".repeat(64)},v1=${good}`;
    expect(await verifyWebhookSignature("whsec_a", header, BODY, { now: NOW })).toBe(true);
  });

  it.each([
    ["empty", ""],
    ["no timestamp", `v1=${"a".repeat(64)}`],
    ["no signature", `t=${T}`],
    ["short signature", `t=${T},v1=abc`],
    ["non-numeric timestamp", `t=soon,v1=${"a".repeat(64)}`],
    ["garbage", "hello world"],
  ])("returns false, never throws, for a malformed header: %s", async (_label, header) => {
    expect(await verifyWebhookSignature("whsec_a", header, BODY, { now: NOW })).toBe(false);
  });
});
