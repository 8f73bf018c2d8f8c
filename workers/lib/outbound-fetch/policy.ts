/** How an outbound call is allowed to behave. Built from config by the caller. */
export interface OutboundPolicy {
  /**
   * Let private, loopback and internal hosts through (scheme, credential and port rules still
   * apply). Only for local development, where MCP servers and webhooks run on localhost; never
   * set it from anything a tenant controls.
   * @default false
   */
  allowPrivate?: boolean;
  /**
   * Deadline for the whole exchange, redirects and reading the body included, so an upstream
   * that dribbles bytes cannot hold a request open. Long-lived streams (SSE) need a larger value.
   * @default 10_000
   */
  timeoutMs?: number;
  /**
   * Largest response body read, counted after content decoding so a compressed bomb is caught.
   * @default 5 MiB
   */
  maxResponseBytes?: number;
  /** @default 3 */
  maxRedirects?: number;
  /**
   * Ports a URL may name (the scheme's default port counts as named). Unset allows every port:
   * the address checks are the security boundary; which port a public host serves on is the
   * tenant's business.
   * @default undefined (any port)
   */
  allowedPorts?: number[];
  /**
   * The fetch to call; tests pass a fake because the test runtime has no internet.
   * @default globalThis.fetch
   */
  fetcher?: FetchImpl;
}

/** The slice of `fetch` outboundFetch uses. */
export type FetchImpl = (url: string, init: RequestInit) => Promise<Response>;
