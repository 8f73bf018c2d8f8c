import { ApiError } from "../errors";
import { hostRefusal } from "./hosts";
import type { OutboundPolicy } from "./policy";

/**
 * Parses a tenant-supplied URL and refuses anything outboundFetch must not call: schemes other
 * than http(s), credentials in the URL, non-public hosts (see `hostRefusal`) and ports outside
 * `policy.allowedPorts`.
 *
 * @throws {ApiError} UNPROCESSABLE with a detail naming the rule that refused the URL.
 * @example
 * const url = checkOutboundUrl(body.serverUrl); // at write time, so a bad URL is a 422 on save
 */
export function checkOutboundUrl(raw: string, policy: OutboundPolicy = {}): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refused("it is not a valid absolute URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw refused(`only http and https are allowed, not ${url.protocol.slice(0, -1)}`);
  }
  // Never echo the credentials: the detail ends up in responses and logs.
  if (url.username !== "" || url.password !== "") {
    throw refused("it carries credentials (user:pass@); send them in a header instead");
  }
  if (policy.allowedPorts) {
    const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
    if (!policy.allowedPorts.includes(port)) throw refused(`port ${port} is not allowed`);
  }
  if (!policy.allowPrivate) {
    const reason = hostRefusal(url.hostname);
    if (reason) throw refused(reason);
  }
  return url;
}

function refused(why: string): ApiError {
  return new ApiError("UNPROCESSABLE", { detail: `The URL was refused: ${why}.` });
}
