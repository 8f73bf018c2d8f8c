import { describe, expect, it } from "vitest";
import { isDatabaseBusy, isUniqueViolation, isUnstorableValue } from "./pg-errors";

/** A driver error as drizzle hands it on: the PostgreSQL fields on the cause. */
const wrapped = (code: string, constraint?: string) =>
  new Error("query failed", { cause: Object.assign(new Error("pg"), { code, constraint }) });

describe("PostgreSQL errors", () => {
  it("tells a full server (503 material) from client mistakes and bugs", () => {
    expect(isDatabaseBusy(wrapped("53300"))).toBe(true); // too many connections
    expect(isDatabaseBusy(wrapped("53100"))).toBe(true); // disk full
    expect(isDatabaseBusy(wrapped("57P03"))).toBe(true); // starting up
    expect(isDatabaseBusy(wrapped("23505"))).toBe(false);
    expect(isDatabaseBusy(new Error("network"))).toBe(false);
  });

  it("finds unique violations (by constraint) and unstorable values through the cause", () => {
    expect(isUniqueViolation(wrapped("23505", "k"), "k")).toBe(true);
    expect(isUniqueViolation(wrapped("23505", "k"), "other")).toBe(false);
    expect(isUnstorableValue(wrapped("22P05"))).toBe(true);
    expect(isUnstorableValue(wrapped("54001"))).toBe(true);
    expect(isUnstorableValue(wrapped("53300"))).toBe(false);
  });
});
