import { describe, expect, test } from "vitest";
import { markdownSections, parseMarkdown } from "./markdown";

describe("parseMarkdown", () => {
  test("keeps the markdown as it is, line ends normalised", () => {
    const source = "# Title\r\n\r\nSome *emphasis* and a [link](https://example.com).\r\n";
    const doc = parseMarkdown(new TextEncoder().encode(source));
    expect(doc.text).toBe("# Title\n\nSome *emphasis* and a [link](https://example.com).\n");
    expect(doc.pages).toBeNull();
  });

  test("finds ATX headings with their level, title and the offset of their line", () => {
    const text = "Intro\n# One\ntext\n## Two ##\n   ### Three\n###### Six\n";
    const sections = markdownSections(text);
    expect(sections).toEqual([
      { start: 6, level: 1, title: "One" },
      { start: 17, level: 2, title: "Two" },
      { start: 27, level: 3, title: "Three" },
      { start: 40, level: 6, title: "Six" },
    ]);
    for (const section of sections) expect(text.slice(section.start)).toMatch(/^ *#/);
  });

  test.each([
    ["no space after the hashes", "#hashtag\n"],
    ["seven hashes", "####### too deep\n"],
    ["four spaces of indent (a code block)", "    # code\n"],
    ["a heading inside a backtick fence", "```md\n# inside\n```\n"],
    ["a heading inside a tilde fence", "~~~\n# inside\n~~~\n"],
    ["a longer fence not closed by a shorter one", "````\n```\n# inside\n````\n"],
    ["a fence never closed", "```\n# inside\n"],
  ])("ignores %s", (_label, text) => {
    expect(markdownSections(text)).toEqual([]);
  });

  test("resumes after a fence closes, and a backtick fence is not closed by tildes", () => {
    const text = "```\n~~~\n# inside\n```\n# After\n";
    expect(markdownSections(text)).toEqual([{ start: text.indexOf("# After"), level: 1, title: "After" }]);
  });
});
