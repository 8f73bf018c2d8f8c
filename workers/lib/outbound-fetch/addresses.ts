// Special-purpose ranges from the IANA IPv4 registry that are not globally reachable, or that
// lead to hosts of ours or of the cloud we run on rather than of the tenant.
const V4_BLOCKS = [
  ["0.0.0.0/8", "a 'this network'"],
  ["10.0.0.0/8", "a private"],
  ["100.64.0.0/10", "a carrier-grade NAT"],
  ["127.0.0.0/8", "a loopback"],
  ["169.254.0.0/16", "a link-local (cloud metadata)"],
  ["172.16.0.0/12", "a private"],
  ["192.0.0.0/24", "an IETF protocol-assignment"],
  ["192.0.2.0/24", "a documentation"],
  ["192.88.99.0/24", "a 6to4 relay anycast"],
  ["192.168.0.0/16", "a private"],
  ["198.18.0.0/15", "a benchmarking"],
  ["198.51.100.0/24", "a documentation"],
  ["203.0.113.0/24", "a documentation"],
  ["224.0.0.0/4", "a multicast"],
  ["240.0.0.0/4", "a reserved or broadcast"],
].map(([cidr, reason]) => {
  const [base = "", bits = "0"] = (cidr as string).split("/");
  const mask = Number(bits) === 0 ? 0 : (0xffffffff << (32 - Number(bits))) >>> 0;
  return { base: parseIpv4(base) as number, mask, reason: reason as string };
});

export function v4Refusal(addr: number): string | null {
  for (const block of V4_BLOCKS) {
    if ((addr & block.mask) >>> 0 === block.base) return `${block.reason} address`;
  }
  return null;
}

export function v6Refusal(b: Uint8Array): string | null {
  const word = (i: number) => ((b[i] ?? 0) << 8) | (b[i + 1] ?? 0);
  const zeroUpTo = (end: number) => b.subarray(0, end).every((x) => x === 0);
  const embedded = (at: number) =>
    (((b[at] ?? 0) << 24) | ((b[at + 1] ?? 0) << 16) | ((b[at + 2] ?? 0) << 8) | (b[at + 3] ?? 0)) >>> 0;

  if (zeroUpTo(16)) return "the unspecified address";
  if (zeroUpTo(15) && b[15] === 1) return "a loopback address";
  // A v4 address in v6 clothing is spelt as v4 by anyone with a legitimate reason to call it.
  if (zeroUpTo(10) && word(10) === 0xffff) return "an IPv4-mapped address";
  if (zeroUpTo(12)) return "an IPv4-compatible address";
  if (word(0) === 0x64 && word(2) === 0xff9b) {
    if (b.subarray(4, 12).every((x) => x === 0)) {
      const inner = v4Refusal(embedded(12));
      return inner ? `a NAT64 address embedding ${inner}` : null;
    }
    return "a local-use NAT64 address";
  }
  // Only 2000::/3 holds global unicast; everything else (ULA fc00::/7, link-local fe80::/10,
  // site-local fec0::/10, multicast ff00::/8, discard 100::/64, SRv6 5f00::/16) is refused.
  if (((b[0] ?? 0) & 0xe0) !== 0x20) {
    if (((b[0] ?? 0) & 0xfe) === 0xfc) return "a unique-local address";
    if (b[0] === 0xfe && ((b[1] ?? 0) & 0xc0) === 0x80) return "a link-local address";
    if (b[0] === 0xff) return "a multicast address";
    return "an address outside global unicast (2000::/3)";
  }
  if (word(0) === 0x2002) {
    const inner = v4Refusal(embedded(2));
    return inner ? `a 6to4 address embedding ${inner}` : null;
  }
  if (word(0) === 0x2001 && word(2) === 0x0db8) return "a documentation address";
  if (word(0) === 0x2001 && word(2) < 0x200)
    return "an IETF protocol assignment (Teredo, benchmarking, ORCHID)";
  if (word(0) === 0x3fff && (word(2) & 0xf000) === 0) return "a documentation address";
  return null;
}

/** IPv4 as WHATWG parses it: 1-4 parts, each decimal, 0x-hex or 0-octal; the last fills the rest. */
export function parseIpv4(name: string): number | null {
  const parts = name.split(".");
  if (parts.length > 4) return null;
  const numbers: number[] = [];
  for (const part of parts) {
    let value: number;
    if (/^0x[0-9a-f]*$/i.test(part)) value = part.length === 2 ? 0 : Number.parseInt(part.slice(2), 16);
    else if (/^0[0-7]+$/.test(part)) value = Number.parseInt(part.slice(1), 8);
    else if (/^(0|[1-9][0-9]*)$/.test(part)) value = Number(part);
    else return null;
    numbers.push(value);
  }
  const last = numbers.pop() ?? 0;
  if (numbers.some((n) => n > 255) || last >= 256 ** (4 - numbers.length)) return null;
  return numbers.reduce((acc, n, i) => acc + n * 256 ** (3 - i), last);
}

export function formatIpv4(addr: number): string {
  return [24, 16, 8, 0].map((shift) => (addr >>> shift) & 0xff).join(".");
}

export function parseIpv6(text: string): Uint8Array | null {
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const head = parseGroups(halves[0] ?? "", halves.length === 1);
  const tail = halves.length === 2 ? parseGroups(halves[1] ?? "", true) : [];
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[i * 2] = g >> 8;
    bytes[i * 2 + 1] = g & 0xff;
  });
  return bytes;
}

function parseGroups(part: string, mayEndInIpv4: boolean): number[] | null {
  if (part === "") return [];
  const groups = part.split(":");
  const out: number[] = [];
  for (const [i, group] of groups.entries()) {
    if (mayEndInIpv4 && i === groups.length - 1 && group.includes(".")) {
      if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(group)) return null;
      const v4 = parseIpv4(group.replace(/(^|\.)0+(\d)/g, "$1$2"));
      if (v4 === null) return null;
      out.push(v4 >>> 16, v4 & 0xffff);
    } else if (/^[0-9a-f]{1,4}$/.test(group)) {
      out.push(Number.parseInt(group, 16));
    } else {
      return null;
    }
  }
  return out;
}
