import { describe, expect, test } from "vitest";
import { htmlToText, parseHtml } from "./html";

const text = (html: string) => htmlToText(html).text;

describe("htmlToText", () => {
  test("puts paragraphs on their own blank-line-separated lines and collapses whitespace", () => {
    expect(text("<p>  Hello\n   <b>bold</b>   world </p>\n\n\n<p>Second</p>")).toBe(
      "Hello bold world\n\nSecond",
    );
  });

  test("keeps inline elements on the line and puts line-level blocks on new lines", () => {
    expect(text("<div>one <span>two</span><em>three</em></div><div>four<br>five</div>")).toBe(
      "one twothree\nfour\nfive",
    );
  });

  test("lists and tables stay readable", () => {
    const html =
      "<ul><li>alpha</li><li>beta</li></ul>" +
      "<table><tr><th>Name</th><th>Age</th></tr><tr><td>Ada</td><td>36</td></tr></table>";
    expect(text(html)).toBe("alpha\nbeta\n\nName | Age\nAda | 36");
  });

  test.each([
    ["script", "<p>a</p><script>if (x < 1) document.write('</div><p>leak</p>')</script><p>b</p>"],
    ["style", "<p>a</p><style>p::after { content: '</p>leak' }</style><p>b</p>"],
    ["comment", "<p>a</p><!-- <p>leak</p> --><p>b</p>"],
    ["template", "<p>a</p><template><p>leak</p><template><p>leak</p></template></template><p>b</p>"],
    ["noscript", "<p>a</p><noscript><p>leak</p></noscript><p>b</p>"],
    ["nav", "<p>a</p><nav><ul><li><a href='/'>leak</a></li></ul></nav><p>b</p>"],
    ["svg with a self-closing child", "<p>a</p><svg><path d='M0'/><text>leak</text></svg><p>b</p>"],
    [
      "uppercase script with attributes",
      "<p>a</p><SCRIPT type=\"module\">x = '</SCRIPTX>leak'</SCRIPT ><p>b</p>",
    ],
    ["script inside a dropped nav", "<p>a</p><nav><script>'</nav>leak'</script>leak</nav><p>b</p>"],
    ["doctype and processing instruction", "<!DOCTYPE html><?xml version='1.0'?><p>a</p><p>b</p>"],
  ])("drops %s", (_label, html) => {
    expect(text(html)).toBe("a\n\nb");
  });

  test("a > inside a quoted attribute does not end the tag; an apostrophe in an unquoted one opens no quote", () => {
    expect(text(`<p title="a > b" data-x='<p>'>one</p><p title=it's>two</p><p>three</p>`)).toBe(
      "one\n\ntwo\n\nthree",
    );
  });

  test("decodes named and numeric character references in text, and does not re-parse them as tags", () => {
    expect(
      text("<p>Fish &amp; chips &#8212; &lt;b&gt;not bold&lt;/b&gt; &#x1F41F; caf&eacute;&nbsp;bar</p>"),
    ).toBe("Fish & chips — <b>not bold</b> 🐟 café bar");
  });

  test("a < that starts no tag is text", () => {
    expect(text("<p>1 < 2 and 3 <= 4</p>")).toBe("1 < 2 and 3 <= 4");
  });

  test("keeps whitespace inside pre, minus the newline right after <pre>", () => {
    expect(text("<p>Run:</p><pre>\n  npm  test\n    --watch</pre><p>Done</p>")).toBe(
      "Run:\n\n  npm  test\n    --watch\n\nDone",
    );
  });

  test("keeps the title and textarea text, decoded", () => {
    expect(
      text("<html><head><title>A &amp; B</title><meta charset=utf-8></head><body><p>x</p></body></html>"),
    ).toBe("A & B\n\nx");
  });

  test("headings become sections whose start is where the heading's text begins", () => {
    const doc = htmlToText(
      "<h1>Guide</h1><p>intro</p><h2> Install <small>(npm)</small></h2><p>run it</p><h3><a href=#x>Deep</a> <i>dive</i></h3>",
    );
    expect(doc.text).toBe("Guide\n\nintro\n\nInstall (npm)\n\nrun it\n\nDeep dive");
    expect(doc.sections).toEqual([
      { start: 0, level: 1, title: "Guide" },
      { start: doc.text.indexOf("Install"), level: 2, title: "Install (npm)" },
      { start: doc.text.indexOf("Deep"), level: 3, title: "Deep dive" },
    ]);
  });

  test("an empty heading is no section", () => {
    expect(htmlToText("<h2> </h2><p>x</p>").sections).toEqual([]);
  });

  test("unclosed tags and a truncated document do not throw", () => {
    expect(text("<p>one<p>two<div>three <b>four")).toBe("one\n\ntwo\nthree four");
    expect(text("<p>one</p><a href='never closed")).toBe("one");
    expect(text("<p>one</p><script>never closed")).toBe("one");
  });
});

describe("parseHtml", () => {
  test("decodes UTF-8 bytes and normalises line ends first", () => {
    const doc = parseHtml(new TextEncoder().encode("<pre>a\r\nb</pre><p>é</p>"));
    expect(doc.text).toBe("a\nb\n\né");
    expect(doc.pages).toBeNull();
  });
});
