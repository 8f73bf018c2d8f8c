import { formatIpv4, parseIpv4, parseIpv6, v4Refusal, v6Refusal } from "./addresses";

// Names that only mean something inside a private network or a cloud instance. Public DNS never
// answers for them, but a resolver on an internal network would, so they are refused by name.
const METADATA_NAMES = new Set([
  "metadata",
  "metadata.google.internal",
  "instance-data",
  "instance-data.ec2.internal",
]);
const INTERNAL_SUFFIXES = ["local", "internal", "localdomain", "home.arpa", "lan"];

/**
 * Why a host may not be called, or null when it may. `host` is what `URL.hostname` returns
 * (IPv6 in brackets). Checks the literal spelling too, not just the normalised one, so a URL
 * parser that leaves `0x7f.1` or `2130706433` alone still cannot smuggle loopback past it.
 *
 * @throws nothing: a malformed host comes back as a reason, not an exception.
 * @example
 * hostRefusal("0x7f.1"); // "127.0.0.1 is a loopback address"
 * hostRefusal("example.com"); // null
 */
export function hostRefusal(host: string): string | null {
  const lower = host.toLowerCase();
  if (lower.startsWith("[") && lower.endsWith("]")) {
    const inner = lower.slice(1, -1);
    if (inner.includes("%")) return `${host} carries an IPv6 zone identifier`;
    const bytes = parseIpv6(inner);
    if (!bytes) return `${host} is not a valid IPv6 address`;
    const reason = v6Refusal(bytes);
    return reason ? `${host} is ${reason}` : null;
  }
  // A WHATWG parser has already decoded these; any that survive mean a parser that did not.
  if (lower.includes("%")) return `${host} is a percent-encoded host`;
  const name = lower.replace(/\.+$/, "");
  if (name === "") return "the URL has no host";
  if (endsInNumber(name)) {
    const v4 = parseIpv4(name);
    if (v4 === null) return `${host} is neither a valid IPv4 address nor a hostname`;
    const reason = v4Refusal(v4);
    return reason ? `${formatIpv4(v4)} is ${reason}` : null;
  }
  if (name === "localhost" || name.endsWith(".localhost")) return `${name} is a loopback hostname`;
  if (METADATA_NAMES.has(name)) return `${name} is a cloud metadata hostname`;
  for (const suffix of INTERNAL_SUFFIXES) {
    if (name === suffix || name.endsWith(`.${suffix}`)) return `${name} is an internal hostname (.${suffix})`;
  }
  // A dotless name resolves only through a local search domain, i.e. inside someone's network.
  if (!name.includes(".")) return `${name} is a single-label hostname`;
  return null;
}

/** WHATWG "ends in a number": such a host is parsed as IPv4 or is invalid. */
function endsInNumber(name: string): boolean {
  const last = name.split(".").pop() ?? "";
  return /^[0-9]+$/.test(last) || /^0x[0-9a-f]*$/.test(last);
}
