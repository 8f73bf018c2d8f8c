import { describe, expect, test } from "vitest";
import { prose, sampleDocuments } from "../../../test/fixtures/rag/sample-documents";
import { markdownSections } from "../parse/markdown";
import { parseDocument } from "../parse/parse-document";
import type { ParsedDocument } from "../parse/types";
import { chunkDocument, type PlannedChunk } from "./chunk-document";
import { type ChunkingSettings, chunkingSettingsSchema, DEFAULT_CHUNKING } from "./settings";
import { estimateTokens } from "./tokens";

const SETTINGS: [string, ChunkingSettings][] = [
  ["defaults", DEFAULT_CHUNKING],
  ["small with parents", { chunkTokens: 64, overlapTokens: 16, parentTokens: 256 }],
  ["flat without overlap", { chunkTokens: 100, overlapTokens: 0, parentTokens: null }],
  ["flat with heavy overlap", { chunkTokens: 128, overlapTokens: 100, parentTokens: null }],
];

const plain = (text: string): ParsedDocument => ({ text, pages: null, sections: [] });
const markdown = (text: string): ParsedDocument => ({ text, pages: null, sections: markdownSections(text) });
const leavesOf = (chunks: PlannedChunk[]) => chunks.filter((chunk) => chunk.role === "leaf");
const parentsOf = (chunks: PlannedChunk[]) => chunks.filter((chunk) => chunk.role === "parent");
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Every property a chunk plan must have, whatever the document and settings. */
function expectValidPlan(doc: ParsedDocument, settings: ChunkingSettings, chunks: PlannedChunk[]): void {
  const { text } = doc;
  chunks.forEach((chunk, i) => {
    expect(chunk.ordinal).toBe(i);
    expect(chunk.content).toBe(text.slice(chunk.startOffset, chunk.endOffset));
    expect(chunk.content.length).toBeGreaterThan(0);
    expect(chunk.content.trim()).toBe(chunk.content);
    expect(chunk.content).not.toMatch(LONE_SURROGATE);
    expect(chunk.tokenCount).toBe(estimateTokens(chunk.content));
  });

  const leaves = leavesOf(chunks);
  expect(leaves.length).toBeGreaterThan(0);
  for (const leaf of leaves) expect(leaf.tokenCount).toBeLessThanOrEqual(settings.chunkTokens);
  for (let i = 1; i < leaves.length; i++) {
    const [previous, leaf] = [leaves[i - 1] as PlannedChunk, leaves[i] as PlannedChunk];
    expect(leaf.startOffset).toBeGreaterThan(previous.startOffset);
    expect(leaf.endOffset).toBeGreaterThan(previous.endOffset);
  }

  // Nothing but whitespace is left out of the leaves.
  const covered = new Uint8Array(text.length);
  for (const leaf of leaves) covered.fill(1, leaf.startOffset, leaf.endOffset);
  for (const match of text.matchAll(/\S/g)) {
    if (covered[match.index] !== 1) throw new Error(`offset ${match.index} is in no leaf`);
  }

  if (settings.parentTokens === null) {
    expect(parentsOf(chunks)).toEqual([]);
    for (const leaf of leaves) expect(leaf.parentOrdinal).toBeNull();
  } else {
    const parents = parentsOf(chunks);
    expect(chunks[0]?.role).toBe("parent");
    for (const parent of parents) {
      expect(parent.parentOrdinal).toBeNull();
      expect(parent.tokenCount).toBeLessThanOrEqual(settings.parentTokens);
    }
    for (let i = 1; i < parents.length; i++) {
      expect(parents[i]?.startOffset).toBeGreaterThanOrEqual(parents[i - 1]?.endOffset ?? 0);
    }
    let currentParent: PlannedChunk | undefined;
    for (const chunk of chunks) {
      if (chunk.role === "parent") {
        currentParent = chunk;
        continue;
      }
      // A leaf belongs to the parent right before it, and lies inside it and in no other.
      expect(chunk.parentOrdinal).toBe(currentParent?.ordinal);
      const containing = parents.filter(
        (p) => p.startOffset <= chunk.startOffset && chunk.endOffset <= p.endOffset,
      );
      expect(containing.map((p) => p.ordinal)).toEqual([chunk.parentOrdinal]);
    }
  }

  for (const chunk of chunks) {
    if (doc.pages === null) {
      expect(chunk.page).toBeNull();
    } else {
      const holding = doc.pages.find(
        (page) => page.start <= chunk.startOffset && chunk.startOffset < page.end,
      );
      expect(chunk.page).toBe(holding?.page);
    }
  }
}

describe("chunkDocument on every format", async () => {
  const parsed = await Promise.all(
    sampleDocuments().map(
      async ({ mimeType, bytes }) => [mimeType, await parseDocument(bytes, mimeType)] as const,
    ),
  );
  const cases = parsed.flatMap(([mimeType, doc]) =>
    SETTINGS.map(([label, settings]) => [mimeType, label, doc, settings] as const),
  );

  test.each(cases)("%s with %s settings", (_mimeType, _label, doc, settings) => {
    const chunks = chunkDocument(doc, settings);
    expectValidPlan(doc, settings, chunks);
    if (settings.chunkTokens < 200) expect(leavesOf(chunks).length).toBeGreaterThan(1);
  });

  test.each(parsed)("%s is chunked the same way every time", (_mimeType, doc) => {
    const settings = chunkingSettingsSchema.parse({ chunkTokens: 80, overlapTokens: 20, parentTokens: 300 });
    expect(chunkDocument(doc, settings)).toEqual(chunkDocument(structuredClone(doc), { ...settings }));
  });
});

describe("overlap", () => {
  const doc = plain(prose(42, 20, 6));
  const settings: ChunkingSettings = { chunkTokens: 120, overlapTokens: 30, parentTokens: null };
  const leaves = chunkDocument(doc, settings);

  test("each leaf repeats about overlapTokens from the end of the one before, from a word start", () => {
    expect(leaves.length).toBeGreaterThan(5);
    expectValidPlan(doc, settings, leaves);
    for (let i = 1; i < leaves.length; i++) {
      const [previous, leaf] = [leaves[i - 1] as PlannedChunk, leaves[i] as PlannedChunk];
      expect(leaf.startOffset).toBeLessThan(previous.endOffset);
      const shared = doc.text.slice(leaf.startOffset, previous.endOffset);
      expect(previous.content.endsWith(shared)).toBe(true);
      expect(leaf.content.startsWith(shared)).toBe(true);
      expect(doc.text[leaf.startOffset - 1]).toMatch(/\s/);
      const sharedTokens = estimateTokens(shared);
      expect(sharedTokens).toBeLessThanOrEqual(settings.overlapTokens);
      // Moving forward to a word start may give up part of one word.
      expect(sharedTokens).toBeGreaterThanOrEqual(settings.overlapTokens - 5);
    }
  });

  test("overlapTokens 0 gives leaves that do not overlap", () => {
    const flat = chunkDocument(doc, { ...settings, overlapTokens: 0 });
    for (let i = 1; i < flat.length; i++) {
      expect(flat[i]?.startOffset).toBeGreaterThanOrEqual(flat[i - 1]?.endOffset ?? 0);
    }
  });

  test("a leaf that starts a section takes no overlap from the section before", () => {
    const text = `# One\n\n${prose(1, 3, 6)}\n\n# Two\n\n${prose(2, 3, 6)}`;
    const chunks = chunkDocument(markdown(text), settings);
    const two = chunks.find((chunk) => chunk.content.startsWith("# Two"));
    expect(two).toBeDefined();
    expect(
      chunks.some((chunk) => chunk.content.includes("# Two") && !chunk.content.startsWith("# Two")),
    ).toBe(false);
  });
});

describe("where splits fall", () => {
  test("prefers section starts: when sections fit, every leaf starts at one", () => {
    const sections = Array.from({ length: 8 }, (_, i) => `## Part ${i}\n\n${prose(i + 1, 1, 3 + (i % 3))}`);
    const doc = markdown(sections.join("\n\n"));
    const settings: ChunkingSettings = { chunkTokens: 128, overlapTokens: 0, parentTokens: null };
    for (const section of sections) expect(estimateTokens(section)).toBeLessThanOrEqual(128);
    const chunks = chunkDocument(doc, settings);
    expectValidPlan(doc, settings, chunks);
    expect(chunks.length).toBeGreaterThan(2);
    const starts = new Set(doc.sections.map((section) => section.start));
    for (const chunk of chunks) expect(starts.has(chunk.startOffset)).toBe(true);
  });

  test("merges neighbouring sections that fit together", () => {
    const doc = markdown(Array.from({ length: 6 }, (_, i) => `## S${i}\n\nshort text ${i}.`).join("\n\n"));
    const chunks = chunkDocument(doc, { chunkTokens: 400, overlapTokens: 50, parentTokens: null });
    expect(chunks).toHaveLength(1);
    expect(chunks[0]?.content).toBe(doc.text);
  });

  test("then paragraph ends: no leaf stops inside a paragraph when paragraphs fit", () => {
    const doc = plain(prose(9, 30, 3));
    const settings: ChunkingSettings = { chunkTokens: 150, overlapTokens: 0, parentTokens: null };
    const chunks = chunkDocument(doc, settings);
    expect(chunks.length).toBeGreaterThan(5);
    for (const chunk of chunks) {
      const after = doc.text.slice(chunk.endOffset, chunk.endOffset + 2);
      expect(["", "\n\n"]).toContain(after);
    }
  });

  test("then sentence ends inside a paragraph too long for one leaf", () => {
    const doc = plain(prose(10, 1, 40));
    const chunks = chunkDocument(doc, { chunkTokens: 100, overlapTokens: 0, parentTokens: null });
    expect(chunks.length).toBeGreaterThan(3);
    for (const chunk of chunks) expect(chunk.content.endsWith(".")).toBe(true);
  });

  test("cuts a run without whitespace by token count, and never inside a surrogate pair", () => {
    const text = `a${"𝐀".repeat(3000)} ${"x".repeat(5000)}`;
    const doc = plain(text);
    const settings: ChunkingSettings = { chunkTokens: 64, overlapTokens: 0, parentTokens: 256 };
    const chunks = chunkDocument(doc, settings);
    expectValidPlan(doc, settings, chunks);
    const leaves = leavesOf(chunks);
    expect(leaves.map((leaf) => leaf.content).join("")).toBe(text.replace(" ", ""));
    expect(leaves.filter((leaf) => leaf.tokenCount === 64).length).toBeGreaterThan(10);
  });
});

describe("parents", () => {
  test("are whole sections when a section fits, with their own leaves", () => {
    const sections = Array.from({ length: 4 }, (_, i) => `# Chapter ${i}\n\n${prose(50 + i, 4, 5)}`);
    const doc = markdown(sections.join("\n\n"));
    const settings: ChunkingSettings = { chunkTokens: 100, overlapTokens: 20, parentTokens: 600 };
    for (const section of sections) {
      expect(estimateTokens(section)).toBeLessThanOrEqual(600);
      expect(estimateTokens(section) * 2).toBeGreaterThan(600);
    }
    const chunks = chunkDocument(doc, settings);
    expectValidPlan(doc, settings, chunks);
    expect(parentsOf(chunks).map((parent) => parent.content)).toEqual(sections);
    for (const parent of parentsOf(chunks)) {
      expect(chunks.filter((chunk) => chunk.parentOrdinal === parent.ordinal).length).toBeGreaterThan(1);
    }
  });

  test("cut a section bigger than parentTokens into windows at paragraph ends", () => {
    const doc = markdown(`# Big\n\n${prose(60, 40, 5)}`);
    const settings: ChunkingSettings = { chunkTokens: 100, overlapTokens: 10, parentTokens: 500 };
    const chunks = chunkDocument(doc, settings);
    expectValidPlan(doc, settings, chunks);
    const parents = parentsOf(chunks);
    expect(parents.length).toBeGreaterThan(3);
    for (const parent of parents.slice(1))
      expect(doc.text.slice(parent.startOffset - 2, parent.startOffset)).toBe("\n\n");
  });

  test("come before their leaves in ordinal order", () => {
    const chunks = chunkDocument(plain(prose(70, 30, 5)), {
      chunkTokens: 64,
      overlapTokens: 8,
      parentTokens: 256,
    });
    expect(chunks.map((chunk) => chunk.role).join(",")).toMatch(/^(parent(,leaf)+,?)+$/);
  });

  test("of a document smaller than one leaf: one parent holding one leaf", () => {
    const chunks = chunkDocument(plain("  Just one line.  "), DEFAULT_CHUNKING);
    expect(chunks).toEqual([
      {
        ordinal: 0,
        role: "parent",
        parentOrdinal: null,
        content: "Just one line.",
        startOffset: 2,
        endOffset: 16,
        page: null,
        tokenCount: 4,
      },
      {
        ordinal: 1,
        role: "leaf",
        parentOrdinal: 0,
        content: "Just one line.",
        startOffset: 2,
        endOffset: 16,
        page: null,
        tokenCount: 4,
      },
    ]);
  });
});

describe("edge cases", () => {
  test("text that is all whitespace has no chunks", () => {
    expect(chunkDocument(plain(" \n\n\t "), DEFAULT_CHUNKING)).toEqual([]);
  });

  test("PDF chunks carry the page they start on, and every page with text is some chunk's start page", async () => {
    const pdf = sampleDocuments().find((sample) => sample.mimeType === "application/pdf");
    const doc = await parseDocument(pdf?.bytes ?? new Uint8Array(), "application/pdf");
    const settings: ChunkingSettings = { chunkTokens: 64, overlapTokens: 0, parentTokens: null };
    const chunks = chunkDocument(doc, settings);
    expectValidPlan(doc, settings, chunks);
    expect(new Set(chunks.map((chunk) => chunk.page))).toEqual(new Set([1, 2, 3]));
  });

  test("a 1 MB document with sections", () => {
    const parts: string[] = [];
    for (let i = 0; parts.join("").length < 1_000_000; i++)
      parts.push(`## Section ${i}\n\n${prose(i + 1, 8, 6)}\n\n`);
    const doc = markdown(parts.join(""));
    expect(doc.text.length).toBeGreaterThan(1_000_000);
    const chunks = chunkDocument(doc, DEFAULT_CHUNKING);
    expectValidPlan(doc, DEFAULT_CHUNKING, chunks);
    expect(leavesOf(chunks).length).toBeGreaterThan(500);
  });

  test("a 1 MB document on one line without sections", () => {
    const doc = plain(prose(5, 1, 15_000));
    expect(doc.text.length).toBeGreaterThan(1_000_000);
    expect(doc.text).not.toContain("\n");
    const settings: ChunkingSettings = { chunkTokens: 256, overlapTokens: 32, parentTokens: 2048 };
    expectValidPlan(doc, settings, chunkDocument(doc, settings));
  });
});
