/**
 * HTML character references: every numeric form, and the named ones that real pages use (the
 * Latin-1 set plus common punctuation, symbols and Greek letters). The full HTML table has
 * 2,231 names; carrying it would cost more bundle than the rare `&NotNestedGreaterGreater;` is
 * worth, and an unknown name is left as written, which still reads.
 */

/** Names of U+00A0..U+00FF in code point order (HTML's Latin-1 entities). */
const LATIN1_NAMES =
  "nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy reg macr deg plusmn sup2 sup3 " +
  "acute micro para middot cedil sup1 ordm raquo frac14 frac12 frac34 iquest Agrave Aacute Acirc Atilde Auml " +
  "Aring AElig Ccedil Egrave Eacute Ecirc Euml Igrave Iacute Icirc Iuml ETH Ntilde Ograve Oacute Ocirc Otilde " +
  "Ouml times Oslash Ugrave Uacute Ucirc Uuml Yacute THORN szlig agrave aacute acirc atilde auml aring aelig " +
  "ccedil egrave eacute ecirc euml igrave iacute icirc iuml eth ntilde ograve oacute ocirc otilde ouml divide " +
  "oslash ugrave uacute ucirc uuml yacute thorn yuml";

const GREEK_NAMES =
  "Alpha Beta Gamma Delta Epsilon Zeta Eta Theta Iota Kappa Lambda Mu Nu Xi Omicron Pi Rho _ Sigma Tau " +
  "Upsilon Phi Chi Psi Omega";

const OTHER_NAMED: Record<string, number> = {
  quot: 0x22,
  amp: 0x26,
  apos: 0x27,
  lt: 0x3c,
  gt: 0x3e,
  OElig: 0x152,
  oelig: 0x153,
  Scaron: 0x160,
  scaron: 0x161,
  Yuml: 0x178,
  fnof: 0x192,
  circ: 0x2c6,
  tilde: 0x2dc,
  ensp: 0x2002,
  emsp: 0x2003,
  thinsp: 0x2009,
  zwnj: 0x200c,
  zwj: 0x200d,
  lrm: 0x200e,
  rlm: 0x200f,
  ndash: 0x2013,
  mdash: 0x2014,
  lsquo: 0x2018,
  rsquo: 0x2019,
  sbquo: 0x201a,
  ldquo: 0x201c,
  rdquo: 0x201d,
  bdquo: 0x201e,
  dagger: 0x2020,
  Dagger: 0x2021,
  bull: 0x2022,
  hellip: 0x2026,
  permil: 0x2030,
  prime: 0x2032,
  Prime: 0x2033,
  lsaquo: 0x2039,
  rsaquo: 0x203a,
  euro: 0x20ac,
  trade: 0x2122,
  larr: 0x2190,
  uarr: 0x2191,
  rarr: 0x2192,
  darr: 0x2193,
  harr: 0x2194,
  rArr: 0x21d2,
  hArr: 0x21d4,
  forall: 0x2200,
  part: 0x2202,
  exist: 0x2203,
  empty: 0x2205,
  nabla: 0x2207,
  isin: 0x2208,
  notin: 0x2209,
  sum: 0x2211,
  minus: 0x2212,
  radic: 0x221a,
  infin: 0x221e,
  and: 0x2227,
  or: 0x2228,
  cap: 0x2229,
  cup: 0x222a,
  int: 0x222b,
  asymp: 0x2248,
  ne: 0x2260,
  equiv: 0x2261,
  le: 0x2264,
  ge: 0x2265,
  sub: 0x2282,
  sup: 0x2283,
  oplus: 0x2295,
  sdot: 0x22c5,
  loz: 0x25ca,
  spades: 0x2660,
  clubs: 0x2663,
  hearts: 0x2665,
  diams: 0x2666,
  check: 0x2713,
};

function buildNamedTable(): Map<string, string> {
  const table = new Map<string, string>();
  LATIN1_NAMES.split(" ").forEach((name, i) => {
    table.set(name, String.fromCodePoint(0xa0 + i));
  });
  GREEK_NAMES.split(" ").forEach((name, i) => {
    if (name === "_") return; // U+03A2 is unassigned
    table.set(name, String.fromCodePoint(0x391 + i));
    table.set(name.toLowerCase(), String.fromCodePoint(0x3b1 + i));
  });
  table.set("sigmaf", "\u03c2");
  for (const [name, codePoint] of Object.entries(OTHER_NAMED))
    table.set(name, String.fromCodePoint(codePoint));
  return table;
}

const NAMED = buildNamedTable();

/** Old names that browsers still honour without the closing semicolon. */
const LEGACY_WITHOUT_SEMICOLON = new Set(["amp", "lt", "gt", "quot", "nbsp", "copy", "reg"]);

/**
 * What browsers show for `&#128;`..`&#159;`: those C1 controls are read as Windows-1252, since
 * that is what such pages meant (HTML "numeric character reference end state").
 */
const WINDOWS_1252: Record<number, number> = {
  128: 0x20ac,
  130: 0x201a,
  131: 0x192,
  132: 0x201e,
  133: 0x2026,
  134: 0x2020,
  135: 0x2021,
  136: 0x2c6,
  137: 0x2030,
  138: 0x160,
  139: 0x2039,
  140: 0x152,
  142: 0x17d,
  145: 0x2018,
  146: 0x2019,
  147: 0x201c,
  148: 0x201d,
  149: 0x2022,
  150: 0x2013,
  151: 0x2014,
  152: 0x2dc,
  153: 0x2122,
  154: 0x161,
  155: 0x203a,
  156: 0x153,
  158: 0x17e,
  159: 0x178,
};

const REFERENCE = /&(?:#[xX]([0-9a-fA-F]{1,8});?|#([0-9]{1,10});?|([A-Za-z][A-Za-z0-9]{1,31})(;?))/g;

/**
 * Replaces character references in HTML text with the characters they stand for.
 *
 * @example
 * decodeHtmlEntities("Fish &amp; chips &#8212; &#x1F41F; &eacute;") // "Fish & chips — 🐟 é"
 */
export function decodeHtmlEntities(text: string): string {
  if (!text.includes("&")) return text;
  return text.replace(
    REFERENCE,
    (match, hex?: string, decimal?: string, name?: string, semicolon?: string) => {
      if (hex !== undefined) return fromNumericReference(Number.parseInt(hex, 16));
      if (decimal !== undefined) return fromNumericReference(Number.parseInt(decimal, 10));
      if (name === undefined) return match;
      const decoded = NAMED.get(name);
      if (decoded !== undefined && (semicolon === ";" || LEGACY_WITHOUT_SEMICOLON.has(name))) return decoded;
      // Browsers read a legacy name even when letters follow it: "&copy2024" shows "©2024".
      for (const legacy of LEGACY_WITHOUT_SEMICOLON) {
        if (name.startsWith(legacy)) return `${NAMED.get(legacy)}${name.slice(legacy.length)}${semicolon}`;
      }
      return match;
    },
  );
}

function fromNumericReference(codePoint: number): string {
  const remapped = WINDOWS_1252[codePoint];
  if (remapped !== undefined) return String.fromCodePoint(remapped);
  const invalid = codePoint === 0 || codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff);
  return invalid ? "\uFFFD" : String.fromCodePoint(codePoint);
}
