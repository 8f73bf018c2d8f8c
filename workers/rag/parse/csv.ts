import { decodeText } from "./decode";
import { type ParsedDocument, UnparseableDocumentError } from "./types";

/**
 * Parses `text/csv` (RFC 4180, comma-separated, first row the header). Each record becomes one
 * line, `header1: v1; header2: v2`, so a chunk holding any run of rows still carries the
 * column names. Empty values are left out; a line break inside a quoted value becomes a
 * space, keeping one record per line.
 *
 * @throws UnparseableDocumentError for an unterminated quoted field.
 * @example
 * parseCsv(new TextEncoder().encode('name,city\nAda,"London, UK"')).text // "name: Ada; city: London, UK"
 */
export function parseCsv(bytes: Uint8Array): ParsedDocument {
  const [header = [], ...records] = readCsvRecords(decodeText(bytes));
  const names = header.map((name, i) => name.trim() || `column ${i + 1}`);
  const lines: string[] = [];
  for (const record of records) {
    const fields: string[] = [];
    record.forEach((raw, i) => {
      const value = raw.replace(/\s*\n\s*/g, " ").trim();
      if (value !== "") fields.push(`${names[i] ?? `column ${i + 1}`}: ${value}`);
    });
    if (fields.length > 0) lines.push(fields.join("; "));
  }
  return { text: lines.join("\n"), pages: null, sections: [] };
}

/**
 * Splits CSV text (LF line ends) into records of fields. Quoted fields may hold commas, line
 * breaks and doubled quotes; a quote inside an unquoted field is kept as a character, as most
 * producers that emit one mean it literally. A final line break does not start a record.
 *
 * @throws UnparseableDocumentError when a quoted field is never closed.
 * @example
 * readCsvRecords('a,"b ""c"""\n1,2\n') // [["a", 'b "c"'], ["1", "2"]]
 */
export function readCsvRecords(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let i = 0;
  while (i <= text.length) {
    let field: string;
    let quoteAt = i;
    while (text[quoteAt] === " " || text[quoteAt] === "\t") quoteAt += 1;
    if (text[quoteAt] === '"') {
      // Spaces before an opening quote break RFC 4180, but spreadsheets write them: tolerated.
      const quoted = readQuoted(text, quoteAt + 1);
      field = quoted.value;
      // Characters between the closing quote and the next separator are kept, not rejected.
      let after = quoted.end;
      while (after < text.length && text[after] !== "," && text[after] !== "\n") after += 1;
      field += text.slice(quoted.end, after);
      i = after;
    } else {
      let end = i;
      while (end < text.length && text[end] !== "," && text[end] !== "\n") end += 1;
      field = text.slice(i, end);
      i = end;
    }
    record.push(field);
    if (text[i] === ",") {
      i += 1;
      continue;
    }
    // End of line or of text: a record ends. A line that is empty is no record at all.
    if (!(record.length === 1 && record[0] === "")) records.push(record);
    record = [];
    i += 1;
  }
  return records;
}

function readQuoted(text: string, from: number): { value: string; end: number } {
  const parts: string[] = [];
  let i = from;
  for (;;) {
    const quote = text.indexOf('"', i);
    if (quote === -1)
      throw new UnparseableDocumentError(`CSV has an unterminated quoted field at offset ${from - 1}`);
    parts.push(text.slice(i, quote));
    if (text[quote + 1] === '"') {
      parts.push('"');
      i = quote + 2;
      continue;
    }
    return { value: parts.join(""), end: quote + 1 };
  }
}
