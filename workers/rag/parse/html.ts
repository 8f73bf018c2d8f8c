import { decodeText } from "./decode";
import { decodeHtmlEntities } from "./html-entities";
import type { ParsedDocument, Section } from "./types";

/**
 * Parses `text/html` into readable text. Workers have no DOM, and HTMLRewriter streams
 * asynchronously over a Response, which is awkward for a pure function; a small tokenizer
 * that follows the HTML spec where text extraction depends on it is enough:
 * - script, style and the other raw-text elements end only at their own end tag, so a
 *   `"</div>"` string inside a script cannot leak out;
 * - comments, doctype and processing instructions are dropped, and so is everything inside
 *   elements that are not prose (template, noscript, nav, svg, ...);
 * - a `>` inside a quoted attribute value does not end the tag;
 * - character references are decoded, whitespace is collapsed except inside `<pre>`;
 * - block elements start new lines (paragraph-like ones a blank line, so the chunker sees
 *   paragraphs), table cells are joined with " | ", and h1-h6 become sections.
 *
 * @throws UnparseableDocumentError for invalid UTF-8 or binary bytes.
 * @example
 * parseHtml(new TextEncoder().encode("<h1>Title</h1><p>Body &amp; more</p>")).text // "Title\n\nBody & more"
 */
export function parseHtml(bytes: Uint8Array): ParsedDocument {
  return htmlToText(decodeText(bytes));
}

/** Elements whose content is not markup and ends only at `</name`. Their text is dropped. */
const RAW_TEXT_DROPPED = new Set(["script", "style", "xmp", "iframe", "noembed", "noframes", "noscript"]);
/** Elements whose content is text (references decoded) ending only at `</name`. */
const RAW_TEXT_KEPT = new Set(["title", "textarea"]);
/**
 * Elements holding markup that is not the page's prose: skipped with everything inside.
 * `head` is not among them: its only text is the title, which often names an untitled page.
 */
const DROPPED = new Set(["template", "nav", "svg", "math", "object", "canvas", "select", "datalist"]);

/** Blocks that read as paragraphs: separated by a blank line. */
const PARAGRAPH_BLOCKS = new Set([
  "p",
  "h1",
  "h2",
  "h3",
  "h4",
  "h5",
  "h6",
  "blockquote",
  "pre",
  "table",
  "ul",
  "ol",
  "dl",
  "section",
  "article",
  "header",
  "footer",
  "main",
  "aside",
  "figure",
  "hr",
  "form",
  "fieldset",
  "details",
  "address",
  "center",
  "hgroup",
  "title",
  "textarea",
]);
/** Blocks that only start a new line. */
const LINE_BLOCKS = new Set([
  "br",
  "li",
  "tr",
  "div",
  "dt",
  "dd",
  "caption",
  "figcaption",
  "legend",
  "summary",
  "option",
  "thead",
  "tbody",
  "tfoot",
  "body",
  "html",
  "dialog",
  "menu",
  "dir",
]);
const CELLS = new Set(["td", "th"]);
const HEADING = /^h([1-6])$/;

type Tag = { name: string; closing: boolean; selfClosing: boolean; end: number };

/**
 * The readable text of an HTML string (already decoded), with h1-h6 as sections.
 *
 * @example
 * htmlToText("<p>a<script>x('</p>')</script>b</p>").text // "ab"
 */
export function htmlToText(html: string): ParsedDocument {
  const out = new TextBuilder();
  const sections: Section[] = [];
  let heading: { level: number; start: number | null; title: string } | null = null;
  let preDepth = 0;
  let dropped: { name: string; depth: number } | null = null;

  const emit = (raw: string) => {
    const decoded = decodeHtmlEntities(raw);
    const start = preDepth > 0 ? out.verbatim(decoded) : out.collapsed(decoded);
    if (heading) {
      if (start !== null) heading.start ??= start;
      heading.title += decoded;
    }
  };

  let i = 0;
  while (i < html.length) {
    const lt = html.indexOf("<", i);
    const textEnd = lt === -1 ? html.length : lt;
    if (textEnd > i && dropped === null) emit(html.slice(i, textEnd));
    if (lt === -1) break;
    i = lt;

    if (html.startsWith("<!--", i)) {
      const close = html.indexOf("-->", i + 4);
      i = close === -1 ? html.length : close + 3;
      continue;
    }
    if (html.startsWith("<![CDATA[", i)) {
      const close = html.indexOf("]]>", i + 9);
      const contentEnd = close === -1 ? html.length : close;
      if (dropped === null) out.collapsed(html.slice(i + 9, contentEnd));
      i = close === -1 ? html.length : close + 3;
      continue;
    }
    const next = html[i + 1] ?? "";
    if (next === "!" || next === "?" || (next === "/" && !/[A-Za-z]/.test(html[i + 2] ?? ""))) {
      // Doctype, processing instruction or a bogus end tag like `</ >`: skipped up to `>`.
      const close = html.indexOf(">", i + 1);
      i = close === -1 ? html.length : close + 1;
      continue;
    }
    if (!/[A-Za-z/]/.test(next)) {
      if (dropped === null) emit("<");
      i += 1;
      continue;
    }

    const tag = readTag(html, i);
    i = tag.end;

    if (dropped !== null) {
      if (!tag.closing && (RAW_TEXT_DROPPED.has(tag.name) || RAW_TEXT_KEPT.has(tag.name))) {
        // Inside a dropped element a script can still hold "</nav>": skip it as raw text too.
        i = rawTextEnd(html, i, tag.name, () => {});
        continue;
      }
      if (tag.name === dropped.name && !tag.selfClosing) dropped.depth += tag.closing ? -1 : 1;
      if (dropped.depth === 0) dropped = null;
      continue;
    }
    if (tag.closing) {
      if (tag.name === "pre") preDepth = Math.max(0, preDepth - 1);
      if (CELLS.has(tag.name)) out.glue(" ");
      if (heading && HEADING.test(tag.name)) {
        const title = heading.title.replace(/\s+/g, " ").trim();
        if (heading.start !== null && title !== "") {
          sections.push({ start: heading.start, level: heading.level, title });
        }
        heading = null;
      }
      blockBreak(out, tag.name);
      continue;
    }

    if (RAW_TEXT_DROPPED.has(tag.name)) {
      i = rawTextEnd(html, i, tag.name, () => {});
      continue;
    }
    if (RAW_TEXT_KEPT.has(tag.name)) {
      blockBreak(out, tag.name);
      i = rawTextEnd(html, i, tag.name, emit);
      blockBreak(out, tag.name);
      continue;
    }
    if (DROPPED.has(tag.name)) {
      if (!tag.selfClosing) dropped = { name: tag.name, depth: 1 };
      continue;
    }
    blockBreak(out, tag.name);
    if (CELLS.has(tag.name)) out.glue(" | ");
    if (tag.name === "pre") {
      preDepth += 1;
      // The spec drops one newline right after <pre>: it is there for the source's layout.
      if (html[i] === "\n") i += 1;
    }
    const level = HEADING.exec(tag.name)?.[1];
    if (level !== undefined) heading = { level: Number(level), start: null, title: "" };
  }
  return { text: out.toString(), pages: null, sections };
}

function blockBreak(out: TextBuilder, name: string): void {
  if (PARAGRAPH_BLOCKS.has(name)) out.breakLine(2);
  else if (LINE_BLOCKS.has(name)) out.breakLine(1);
}

const SPACE = /[\t\n\f\r ]/;

/**
 * Reads the tag starting at `html[at] === "<"`. Attributes are scanned one by one as the spec
 * does, so a `>` inside a quoted value does not end the tag and an apostrophe inside an
 * unquoted value (`title=it's`) does not start a quote.
 */
function readTag(html: string, at: number): Tag {
  const closing = html[at + 1] === "/";
  let i = at + (closing ? 2 : 1);
  const nameStart = i;
  while (i < html.length && !SPACE.test(html[i] ?? "") && html[i] !== "/" && html[i] !== ">") i += 1;
  const name = html.slice(nameStart, i).toLowerCase();
  while (i < html.length) {
    const c = html[i];
    if (c === ">") return { name, closing, selfClosing: false, end: i + 1 };
    if (c === "/" && html[i + 1] === ">") return { name, closing, selfClosing: true, end: i + 2 };
    if (c === "/" || SPACE.test(c ?? "")) {
      i += 1;
      continue;
    }
    i += 1;
    while (i < html.length && !/[\t\n\f\r />=]/.test(html[i] ?? "")) i += 1;
    let j = i;
    while (SPACE.test(html[j] ?? "")) j += 1;
    if (html[j] !== "=") continue;
    j += 1;
    while (SPACE.test(html[j] ?? "")) j += 1;
    const quote = html[j];
    if (quote === '"' || quote === "'") {
      const close = html.indexOf(quote, j + 1);
      i = close === -1 ? html.length : close + 1;
    } else {
      i = j;
      while (i < html.length && !SPACE.test(html[i] ?? "") && html[i] !== ">") i += 1;
    }
  }
  return { name, closing, selfClosing: false, end: html.length };
}

/**
 * Finds where a raw-text element's content ends (its `</name` followed by a space, `/` or
 * `>`), hands the content to `onContent` and returns the offset after the end tag.
 */
function rawTextEnd(html: string, from: number, name: string, onContent: (content: string) => void): number {
  const endTag = new RegExp(`</${name}(?=[\\s/>]|$)`, "gi");
  endTag.lastIndex = from;
  const match = endTag.exec(html);
  if (match === null) {
    onContent(html.slice(from));
    return html.length;
  }
  onContent(html.slice(from, match.index));
  const close = html.indexOf(">", match.index);
  return close === -1 ? html.length : close + 1;
}

/**
 * Accumulates extracted text while collapsing whitespace the way a browser lays it out:
 * spaces and line breaks are decided lazily, when the next visible text arrives, so no
 * element can leave a trailing space or a run of blank lines behind.
 */
class TextBuilder {
  private readonly parts: string[] = [];
  private length = 0;
  private pendingBreak = 0;
  private pendingGlue = "";
  private atLineStart = true;
  private trailingNewlines = 0;

  /** Requests `count` line ends (1 = new line, 2 = blank line) before the next text. */
  breakLine(count: 1 | 2): void {
    this.pendingBreak = Math.max(this.pendingBreak, count);
    this.pendingGlue = "";
  }

  /** Requests a separator before the next text on the same line (ignored at a line start). */
  glue(separator: string): void {
    if (separator.length > this.pendingGlue.length) this.pendingGlue = separator;
  }

  /** Adds text with whitespace collapsed; returns where its first visible character landed. */
  collapsed(text: string): number | null {
    const words = text.replace(/[ \t\n\r\f]+/g, " ").replace(/\u00a0/g, " ");
    if (words.startsWith(" ")) this.glue(" ");
    const visible = words.trim();
    if (visible === "") return null;
    const start = this.write(visible);
    if (words.endsWith(" ")) this.glue(" ");
    return start;
  }

  /** Adds preformatted text as it is; returns where it landed. */
  verbatim(text: string): number | null {
    if (text === "") return null;
    return this.write(text.replace(/\u00a0/g, " "));
  }

  private write(text: string): number {
    const missingNewlines = this.pendingBreak - this.trailingNewlines;
    if (this.length > 0 && missingNewlines > 0) this.push("\n".repeat(missingNewlines));
    else if (this.length > 0 && !this.atLineStart && this.pendingGlue !== "") this.push(this.pendingGlue);
    this.pendingBreak = 0;
    this.pendingGlue = "";
    const start = this.length;
    this.push(text);
    this.atLineStart = text.endsWith("\n");
    return start;
  }

  private push(text: string): void {
    this.parts.push(text);
    this.length += text.length;
    let trailing = 0;
    while (trailing < text.length && text[text.length - 1 - trailing] === "\n") trailing += 1;
    this.trailingNewlines = trailing === text.length ? this.trailingNewlines + trailing : trailing;
  }

  toString(): string {
    return this.parts.join("");
  }
}
