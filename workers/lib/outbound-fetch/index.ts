/**
 * The one way to call a URL a tenant gave us (MCP servers, workflow HTTP steps, webhooks).
 *
 * What this can and cannot stop: it refuses URLs whose *literal* host is a private, loopback,
 * link-local, metadata or otherwise non-public address, in every spelling the URL parser accepts,
 * and re-checks every redirect hop. It cannot see what a hostname resolves to: a Worker has no
 * DNS API and `fetch` resolves names itself, so `evil.example` with an A record of 127.0.0.1
 * (or a DNS-rebinding name that flips to 10.0.0.1 after a check) passes here. That gap is
 * acceptable only because Cloudflare's egress runs on Cloudflare's network, not inside ours:
 * there is no private network of ours behind it to reach. If Meridian ever runs where egress
 * can reach internal hosts (a container, a VPC, a Tunnel binding), this check is NOT enough and
 * the egress itself must be filtered.
 */

export { outboundFetch } from "./fetch";
export { hostRefusal } from "./hosts";
export type { FetchImpl, OutboundPolicy } from "./policy";
export { checkOutboundUrl } from "./url";
