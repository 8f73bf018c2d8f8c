import { describe, expect, it } from "vitest";
import { backupKeys, parseBackupKey } from "./backup-keys.ts";
import { expiredBackups } from "./retention.ts";
import { parseListObjectsV2 } from "./s3.ts";

const NOW = new Date("2026-11-26T21:30:00Z");
const daysAgo = (days: number) => ({
  name: `${days}d`,
  takenAt: new Date(NOW.getTime() - days * 86_400_000),
});

describe("backup keys", () => {
  it("are named after the UTC second, so key order is time order", () => {
    const keys = backupKeys("meridian/prod/", new Date("2026-11-26T21:30:00.999Z"));
    expect(keys).toEqual({
      dump: "meridian/prod/meridian-2026-11-26T21-30-00Z.dump",
      manifest: "meridian/prod/meridian-2026-11-26T21-30-00Z.json",
      takenAt: new Date("2026-11-26T21:30:00Z"),
    });
    const later = backupKeys("meridian/prod", new Date("2026-11-27T02:00:00Z"));
    expect(later.dump > keys.dump).toBe(true);
    expect(backupKeys("", NOW).dump).toBe("meridian-2026-11-26T21-30-00Z.dump");
  });

  it.each([
    ["meridian/prod/meridian-2026-11-26T21-30-00Z.json", "meridian/prod/meridian-2026-11-26T21-30-00Z.dump"],
    ["meridian/prod/meridian-2026-11-26T21-30-00Z.dump", "meridian/prod/meridian-2026-11-26T21-30-00Z.dump"],
    ["meridian/prod/notes.txt", undefined],
    ["meridian/prod/old/meridian-2026-11-26T21-30-00Z.dump", undefined],
    ["meridian/prod/meridian-2026-13-40T21-30-00Z.dump", undefined],
    ["other/meridian-2026-11-26T21-30-00Z.dump", undefined],
  ])("parses %s", (key, dump) => {
    expect(parseBackupKey("meridian/prod", key)?.dump).toBe(dump);
  });
});

describe("expiredBackups", () => {
  const backups = [daysAgo(0), daysAgo(1), daysAgo(5), daysAgo(10), daysAgo(40), daysAgo(90)];
  const names = (policy: Parameters<typeof expiredBackups>[1]) =>
    expiredBackups(backups, policy, NOW).map((b) => b.name);

  it.each([
    [{ keep: 2 }, ["5d", "10d", "40d", "90d"]],
    [{ keep: 14 }, []],
    [{ keep: 2, maxAgeDays: 30 }, ["40d", "90d"]],
    [{ keep: 5, maxAgeDays: 7 }, ["90d"]],
    // keep is at least 1: the newest backup is never deleted, however old.
    [{ keep: 0, maxAgeDays: 1 }, ["5d", "10d", "40d", "90d"]],
  ])("with %o deletes %o", (policy, expected) => {
    expect(names(policy)).toEqual(expected);
  });

  it("never deletes the newest, even when it is past the age limit", () => {
    expect(expiredBackups([daysAgo(100), daysAgo(200)], { keep: 1, maxAgeDays: 7 }, NOW)).toEqual([
      daysAgo(200),
    ]);
  });
});

describe("parseListObjectsV2", () => {
  it("reads keys (XML-unescaped), sizes, times and the continuation token", () => {
    const page = parseListObjectsV2(
      `<?xml version="1.0" encoding="UTF-8"?>
      <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>p/</Prefix>
      <KeyCount>2</KeyCount><MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated>
      <Contents><Key>p/a&amp;b.dump</Key><LastModified>2026-11-26T21:30:01.000Z</LastModified><ETag>&quot;x&quot;</ETag><Size>42</Size></Contents>
      <Contents><Key>p/c.json</Key><LastModified>2026-11-26T21:30:02.000Z</LastModified><Size>7</Size></Contents>
      <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken></ListBucketResult>`,
    );
    expect(page).toEqual({
      objects: [
        { key: "p/a&b.dump", size: 42, lastModified: new Date("2026-11-26T21:30:01Z") },
        { key: "p/c.json", size: 7, lastModified: new Date("2026-11-26T21:30:02Z") },
      ],
      nextToken: "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=",
    });
  });

  it("has no token on the last page", () => {
    expect(
      parseListObjectsV2("<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>"),
    ).toEqual({
      objects: [],
    });
  });
});
