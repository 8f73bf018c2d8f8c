/// <reference types="vite/client" />
import { HTTPException } from "hono/http-exception";
import { describe, expect, test } from "vitest";
import { ApiError, ERROR_DOCS_BASE, errorCode, problemSchema, statusOf, titleOf } from "./errors";

// Inlined by Vite when the test is bundled: workerd has no filesystem to read the pages from.
const files = import.meta.glob<string>("../../docs/errors/*.md", {
  query: "?raw",
  import: "default",
  eager: true,
});
const pages = new Map(
  Object.entries(files).map(([path, text]) => [path.slice(path.lastIndexOf("/") + 1, -".md".length), text]),
);
const codes = errorCode.options;

function page(code: string): string {
  const text = pages.get(code);
  if (text === undefined) throw new Error(`docs/errors/${code}.md is missing`);
  return text;
}

function jsonBlocks(text: string): string[] {
  return [...text.matchAll(/```json\n([\s\S]*?)\n```/g)].map((m) => m[1] ?? "");
}

function example(code: string) {
  const [block] = jsonBlocks(page(code));
  if (block === undefined) throw new Error(`docs/errors/${code}.md has no json example`);
  return problemSchema.parse(JSON.parse(block));
}

describe("docs/errors pages", () => {
  test.each(codes)("%s has a page titled with the code that states its status", (code) => {
    const text = page(code);
    expect(text.split("\n")[0]).toBe(`# ${code}`);
    expect(text.match(/^\*\*HTTP status:\*\* (\d{3})\b/m)?.[1]).toBe(String(statusOf(code)));
  });

  test.each(codes)("%s page's example is the problem document the API would send", (code) => {
    const problem = example(code);
    expect(problem).toMatchObject({
      type: `${ERROR_DOCS_BASE}${code}`,
      title: titleOf(code),
      status: statusOf(code),
      code,
    });
    expect(problem.instance).toMatch(/^\/[^?]*$/);
    expect(problem.requestId).toMatch(/^req_/);
  });

  test("the VALIDATION_FAILED example lists the invalid fields", () => {
    expect(example("VALIDATION_FAILED").errors?.length).toBeGreaterThan(0);
  });

  test("the RATE_LIMITED example shows Retry-After and the RateLimit headers", () => {
    const text = page("RATE_LIMITED");
    expect(text).toMatch(/^Retry-After: \d+$/m);
    expect(text).toMatch(/^RateLimit-Policy: "\w+";q=\d+;w=\d+$/m);
    expect(text).toMatch(/^RateLimit: "\w+";r=\d+;t=\d+$/m);
  });

  test("there is no page for a code that does not exist", () => {
    const known = new Set<string>([...codes, "README"]);
    expect([...pages.keys()].filter((name) => !known.has(name))).toEqual([]);
  });

  test("the README's table lists every code with its status", () => {
    const rows = [...page("README").matchAll(/^\| \[([A-Z_]+)\]\(\1\.md\) \| (\d{3}) \|/gm)];
    expect(Object.fromEntries(rows.map((m) => [m[1], Number(m[2])]))).toEqual(
      Object.fromEntries(codes.map((code) => [code, statusOf(code)])),
    );
  });
});

describe("statusOf and ApiError", () => {
  test.each(codes)("%s maps to a 4xx or 5xx status", (code) => {
    expect(statusOf(code)).toBeGreaterThanOrEqual(400);
    expect(statusOf(code)).toBeLessThan(600);
  });

  test.each(codes)("new ApiError(%s) carries the code's status", (code) => {
    const err = new ApiError(code);
    expect(err).toBeInstanceOf(HTTPException);
    expect(err).toMatchObject({ code, status: statusOf(code), message: titleOf(code) });
  });
});
