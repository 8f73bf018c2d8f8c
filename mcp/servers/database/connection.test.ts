import { describe, expect, it } from "vitest";
import { checkDatabaseUrl, databasePolicy } from "./connection";
import { leadingKeyword } from "./tools/query";
import { decodeValue } from "./values";

describe("checkDatabaseUrl", () => {
  it.each([
    [
      "postgres://app:s3cret@ep-cool-1.eu-central-1.aws.neon.tech/shop",
      "postgres://app:s3cret@ep-cool-1.eu-central-1.aws.neon.tech/shop",
    ],
    ["postgresql://app:s3cret@db.example.com:6543/shop", "postgres://app:s3cret@db.example.com:6543/shop"],
    ["  POSTGRES://app@DB.Example.COM/shop  ", "postgres://app@db.example.com/shop"],
    // The driver would take ?host= over the host; options and TLS files are not a tenant's to set.
    [
      "postgres://app:pw@db.example.com/shop?host=127.0.0.1&options=-c%20x%3Dy&sslmode=require",
      "postgres://app:pw@db.example.com/shop",
    ],
    ["postgres://app:p%40ss%3Aword@db.example.com/shop", "postgres://app:p%40ss%3Aword@db.example.com/shop"],
  ])("keeps user, password, host, port and database of %s", (raw, expected) => {
    expect(checkDatabaseUrl(raw, {})).toBe(expected);
  });

  it.each([
    ["http://app:pw@db.example.com/shop", /not a postgres:\/\/ URL/],
    ["mysql://app:pw@db.example.com/shop", /not a postgres:\/\/ URL/],
    ["postgres://db.example.com/shop", /names no user/],
    ["postgres://app:pw@/shop", /not a valid postgres:\/\/ URL|no host/],
    ["postgres://app:pw@127.0.0.1:5432/shop", /127\.0\.0\.1 is a loopback address/],
    ["postgres://app:pw@0x7f.1/shop", /127\.0\.0\.1 is a loopback address/],
    ["postgres://app:pw@2130706433/shop", /127\.0\.0\.1 is a loopback address/],
    ["postgres://app:pw@localhost/shop", /loopback hostname/],
    ["postgres://app:pw@[::1]/shop", /\[::1\] is/],
    ["postgres://app:pw@10.1.2.3/shop", /10\.1\.2\.3 is/],
    ["postgres://app:pw@169.254.169.254/shop", /169\.254\.169\.254 is/],
    ["postgres://app:pw@metadata.google.internal/shop", /metadata hostname/],
    ["postgres://app:pw@db/shop", /single-label hostname/],
    // Special-scheme parsing (as the driver does) ends the host at a backslash.
    ["postgres://app:pw@127.0.0.1\\@db.example.com/shop", /loopback/],
  ])("refuses %s", (raw, message) => {
    let caught: unknown;
    try {
      checkDatabaseUrl(raw, {});
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ name: "ToolError", reason: "connection_refused", message });
    // The password never appears in the refusal.
    expect(String((caught as Error).message)).not.toContain("pw@");
  });

  it("lets private hosts through only when the policy allows them, and never in production", () => {
    expect(checkDatabaseUrl("postgres://app:pw@127.0.0.1:5432/shop", { allowPrivate: true })).toBe(
      "postgres://app:pw@127.0.0.1:5432/shop",
    );
    expect(databasePolicy({ ENVIRONMENT: "test", OUTBOUND_ALLOW_PRIVATE: true })).toEqual({
      allowPrivate: true,
    });
    expect(databasePolicy({ ENVIRONMENT: "production", OUTBOUND_ALLOW_PRIVATE: true })).toEqual({
      allowPrivate: false,
    });
  });
});

describe("leadingKeyword", () => {
  it.each([
    ["select 1", "SELECT"],
    ["  \n\tWITH x AS (select 1) select * from x", "WITH"],
    ["-- begin\nselect 1", "SELECT"],
    ["/* commit; */ begin", "BEGIN"],
    ["/* outer /* nested */ still comment */ commit", "COMMIT"],
    ["(select 1)", null],
    ["-- only a comment", null],
    ["", null],
  ])("%j starts with %s", (sql, keyword) => {
    expect(leadingKeyword(sql)).toBe(keyword);
  });
});

describe("decodeValue", () => {
  it.each([
    [null, 23, null],
    ["t", 16, true],
    ["f", 16, false],
    ["42", 23, 42],
    ["-1.5", 701, -1.5],
    ["NaN", 701, "NaN"],
    ["9007199254740993", 20, "9007199254740993"],
    ["12.50", 1700, "12.50"],
    ['{"a": [1, 2]}', 3802, { a: [1, 2] }],
    ["2024-01-01 00:00:00+00", 1184, "2024-01-01 00:00:00+00"],
    ["\\x00ff", 17, "\\x00ff"],
  ])("%j of type %i is %j", (text, oid, value) => {
    expect(decodeValue(text, oid)).toEqual(value);
  });
});
