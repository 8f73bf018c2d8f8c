import { describe, expect, test } from "vitest";
import { parseCsv, readCsvRecords } from "./csv";
import { UnparseableDocumentError } from "./types";

const parse = (source: string) => parseCsv(new TextEncoder().encode(source));

describe("readCsvRecords", () => {
  test.each([
    [
      "plain fields",
      "a,b,c\n1,2,3",
      [
        ["a", "b", "c"],
        ["1", "2", "3"],
      ],
    ],
    [
      "a final line break",
      "a,b\n1,2\n",
      [
        ["a", "b"],
        ["1", "2"],
      ],
    ],
    ["quoted commas", 'a,"b,c"', [["a", "b,c"]]],
    ["escaped quotes", '"say ""hi""",x', [['say "hi"', "x"]]],
    [
      "a line break inside quotes",
      '"line 1\nline 2",x\ny,z',
      [
        ["line 1\nline 2", "x"],
        ["y", "z"],
      ],
    ],
    [
      "empty fields",
      "a,,c\n,,",
      [
        ["a", "", "c"],
        ["", "", ""],
      ],
    ],
    ["an empty quoted field", '"",x', [["", "x"]]],
    ["blank lines", "a\n\nb", [["a"], ["b"]]],
    ["a quote inside an unquoted field", 'say "hi",x', [['say "hi"', "x"]]],
    ["text after a closing quote", '"a"b,c', [["ab", "c"]]],
    ["spaces before an opening quote", 'a, "b,c"', [["a", "b,c"]]],
  ])("%s", (_label, source, expected) => {
    expect(readCsvRecords(source)).toEqual(expected);
  });

  test.each([
    ["at the end", 'a,"b'],
    ["after an escaped quote", 'a,"b""'],
    ["over several lines", 'a,"b\nc,d\n'],
  ])("rejects an unterminated quote %s", (_label, source) => {
    expect(() => readCsvRecords(source)).toThrow(UnparseableDocumentError);
  });
});

describe("parseCsv", () => {
  test("renders each record as one line of header: value pairs", () => {
    const doc = parse('name,city,notes\r\nAda,"London, UK","first ""programmer"""\r\nGrace,Arlington,\r\n');
    expect(doc.text).toBe(
      'name: Ada; city: London, UK; notes: first "programmer"\nname: Grace; city: Arlington',
    );
    expect(doc.sections).toEqual([]);
  });

  test("a line break in a value becomes a space, keeping one record per line", () => {
    expect(parse('id,text\n1,"two\r\nlines"\n2,x').text).toBe("id: 1; text: two lines\nid: 2; text: x");
  });

  test("names missing headers and extra fields by column number, and skips empty records", () => {
    expect(parse("a,,c\n1,2,3,4\n,,\n5").text).toBe("a: 1; column 2: 2; c: 3; column 4: 4\na: 5");
  });

  test("a header without records renders as no text", () => {
    expect(parse("a,b,c\n").text).toBe("");
  });

  test("an unterminated quote makes the document unparseable", () => {
    expect(() => parse('a,b\n1,"never closed\n2,3')).toThrow(/unterminated quoted field/);
  });
});
