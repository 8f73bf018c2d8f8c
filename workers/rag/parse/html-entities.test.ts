import { describe, expect, test } from "vitest";
import { decodeHtmlEntities } from "./html-entities";

describe("decodeHtmlEntities", () => {
  test.each([
    ["&amp; &lt; &gt; &quot; &apos;", "& < > \" '"],
    ["&copy; &eacute;&Eacute; &yuml; &divide; &nbsp;", "© éÉ ÿ ÷ \u00a0"],
    ["&mdash;&ndash;&hellip;&rsquo;&ldquo;&rdquo;&euro;&trade;", "—–…’“”€™"],
    ["&alpha;&Omega;&sigmaf;&pi;", "αΩςπ"],
    ["&#65;&#x42;&#X43;&#0067;", "ABCC"],
    ["&#x1F600; &#128512;", "😀 😀"],
    ["&#150; &#x80;", "– €"],
    ["&#0; &#xD800; &#x110000;", "\uFFFD \uFFFD \uFFFD"],
    ["&#65 &amp &lt", "A & <"],
    ["&copy2024 &ampfoo; &lt3", "©2024 &foo; <3"],
    ["AT&T &unknown; & ;", "AT&T &unknown; & ;"],
    ["&mdash no semicolon", "&mdash no semicolon"],
  ])("%j -> %j", (input, expected) => {
    expect(decodeHtmlEntities(input)).toBe(expected);
  });
});
