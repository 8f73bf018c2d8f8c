import { describe, expect, it, test } from "vitest";
import { ApiError } from "../errors";
import { checkOutboundUrl, type FetchImpl, hostRefusal, outboundFetch } from ".";

// The test runtime has no internet, so every fetch test passes a fake through policy.fetcher.

function expectRefused(run: () => unknown, code = "UNPROCESSABLE"): ApiError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code });
    return err as ApiError;
  }
  throw new Error("expected the URL to be refused");
}

interface Call {
  url: string;
  init: RequestInit;
}

/** A fetch that answers from `respond` and records each call. */
function fakeFetch(respond: (url: string, init: RequestInit, n: number) => Response | Promise<Response>) {
  const calls: Call[] = [];
  const fetcher: FetchImpl = async (url, init) => {
    calls.push({ url, init });
    return respond(url, init, calls.length);
  };
  return { calls, fetcher };
}

function redirect(location: string, status = 302): Response {
  return new Response(null, { status, headers: { location } });
}

/** A body that yields `chunks` and then stays open until cancelled. */
function stalledBody(chunks: string[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(enc.encode(c));
    },
  });
}

/** Never answers; rejects when aborted, as the real fetch does. */
const hangingFetch: FetchImpl = (_url, init) =>
  new Promise((_, reject) => {
    init.signal?.addEventListener("abort", () => reject(init.signal?.reason));
  });

describe("checkOutboundUrl refuses", () => {
  test.each([
    ["ftp", "ftp://example.com/file"],
    ["file", "file:///etc/passwd"],
    ["gopher", "gopher://example.com/"],
    ["javascript", "javascript:alert(1)"],
    ["data", "data:text/plain,hi"],
    ["websocket", "wss://example.com/socket"],
    ["not a URL", "not a url"],
    ["relative", "/v1/agents"],
  ])("scheme or shape: %s (%s)", (_label, url) => {
    expectRefused(() => checkOutboundUrl(url));
  });

  test.each([
    ["user:pass@", "https://alice:hunter2@example.com/"],
    ["user@", "https://alice@example.com/"],
    [":pass@", "https://:hunter2@example.com/"],
    ["public-looking user before a loopback host", "http://example.com@127.0.0.1/"],
  ])("credentials: %s", (_label, url) => {
    const err = expectRefused(() => checkOutboundUrl(url));
    expect(err.message).toContain("credentials");
    expect(err.message).not.toMatch(/alice|hunter2/);
  });

  test.each([
    // loopback
    ["http://127.0.0.1/", "loopback"],
    ["http://127.255.255.254:8080/", "loopback"],
    ["http://[::1]/", "loopback"],
    ["http://[0:0:0:0:0:0:0:1]/", "loopback"],
    ["http://localhost/", "loopback"],
    ["http://localhost:8787/", "loopback"],
    ["http://LOCALHOST./", "loopback"],
    ["http://api.localhost/", "loopback"],
    // private
    ["http://10.0.0.1/", "private"],
    ["http://10.255.255.255/", "private"],
    ["http://172.16.0.1/", "private"],
    ["http://172.31.255.255/", "private"],
    ["http://192.168.1.1/", "private"],
    // carrier-grade NAT (Alibaba's metadata service lives here)
    ["http://100.64.0.1/", "carrier-grade NAT"],
    ["http://100.127.255.255/", "carrier-grade NAT"],
    ["http://100.100.100.200/", "carrier-grade NAT"],
    // link-local and metadata
    ["http://169.254.169.254/latest/meta-data/", "link-local"],
    ["http://169.254.0.1/", "link-local"],
    ["http://[fe80::1]/", "link-local"],
    ["http://[febf:ffff::1]/", "link-local"],
    // unique-local (AWS's IPv6 metadata address is one)
    ["http://[fc00::1]/", "unique-local"],
    ["http://[fd00:ec2::254]/", "unique-local"],
    // 'this network'
    ["http://0.0.0.0/", "this network"],
    ["http://0.1.2.3/", "this network"],
    ["http://[::]/", "unspecified"],
    // multicast, reserved, broadcast
    ["http://224.0.0.1/", "multicast"],
    ["http://239.255.255.250/", "multicast"],
    ["http://240.0.0.1/", "reserved"],
    ["http://255.255.255.255/", "broadcast"],
    ["http://[ff02::1]/", "multicast"],
    // benchmarking, documentation, IETF assignments
    ["http://198.18.0.1/", "benchmarking"],
    ["http://198.19.255.255/", "benchmarking"],
    ["http://192.0.2.1/", "documentation"],
    ["http://198.51.100.7/", "documentation"],
    ["http://203.0.113.9/", "documentation"],
    ["http://[2001:db8::1]/", "documentation"],
    ["http://[3fff::1]/", "documentation"],
    ["http://192.0.0.170/", "IETF"],
    ["http://192.88.99.1/", "6to4 relay"],
    ["http://[2001::1]/", "IETF"],
    ["http://[2001:2::1]/", "IETF"],
    ["http://[100::1]/", "outside global unicast"],
    // IPv4 inside IPv6
    ["http://[::ffff:127.0.0.1]/", "IPv4-mapped"],
    ["http://[::ffff:7f00:1]/", "IPv4-mapped"],
    ["http://[0:0:0:0:0:ffff:169.254.169.254]/", "IPv4-mapped"],
    ["http://[::FFFF:A9FE:A9FE]/", "IPv4-mapped"],
    ["http://[::ffff:8.8.8.8]/", "IPv4-mapped"],
    ["http://[::127.0.0.1]/", "IPv4-compatible"],
    ["http://[::7f00:1]/", "IPv4-compatible"],
    ["http://[64:ff9b::127.0.0.1]/", "NAT64 address embedding a loopback"],
    ["http://[64:ff9b::10.0.0.1]/", "NAT64 address embedding a private"],
    ["http://[64:ff9b::a9fe:a9fe]/", "NAT64 address embedding a link-local"],
    ["http://[64:ff9b:1::1]/", "local-use NAT64"],
    ["http://[2002:7f00:1::]/", "6to4 address embedding a loopback"],
    ["http://[2002:a9fe:a9fe::1]/", "6to4 address embedding a link-local"],
    ["http://[2002:c0a8:101::1]/", "6to4 address embedding a private"],
  ])("address: %s (%s)", (url, reason) => {
    expect(expectRefused(() => checkOutboundUrl(url)).message).toContain(reason);
  });

  // workerd's URL is the WHATWG parser: it rewrites every one of these to the dotted form before
  // we look, so they are refused as that address. hostRefusal is also tested on the raw spellings
  // below, for a parser that does not normalise.
  test.each([
    ["decimal", "http://2130706433/", "127.0.0.1"],
    ["octal", "http://0177.0.0.1/", "127.0.0.1"],
    ["octal, whole", "http://017700000001/", "127.0.0.1"],
    ["hex dotted", "http://0x7f.0.0.1/", "127.0.0.1"],
    ["hex whole", "http://0x7f000001/", "127.0.0.1"],
    ["uppercase hex", "http://0X7F.0.0.1/", "127.0.0.1"],
    ["uppercase hex whole", "http://0x7F000001/", "127.0.0.1"],
    ["short form a.b", "http://127.1/", "127.0.0.1"],
    ["short form a.b.c", "http://127.0.1/", "127.0.0.1"],
    ["short hex", "http://0x7f.1/", "127.0.0.1"],
    ["trailing dot", "http://127.0.0.1./", "127.0.0.1"],
    ["percent-encoded", "http://%31%32%37.0.0.1/", "127.0.0.1"],
    ["enclosed digits", "http://①②⑦.0.0.1/", "127.0.0.1"],
    ["ideographic dots", "http://127。0。0。1/", "127.0.0.1"],
    ["tab inside host", "http://12\t7.0.0.1/", "127.0.0.1"],
    ["backslashes", "http:\\\\127.0.0.1\\", "127.0.0.1"],
    ["metadata, decimal", "http://2852039166/", "169.254.169.254"],
    ["metadata, hex", "http://0xa9fea9fe/", "169.254.169.254"],
    ["metadata, octal", "http://0251.0376.0251.0376/", "169.254.169.254"],
    ["private, short", "http://10.1/", "10.0.0.1"],
    ["private, hex", "http://0x0a.0.0.1/", "10.0.0.1"],
    ["zero", "http://0/", "0.0.0.0"],
    ["bare 0x", "http://0x/", "0.0.0.0"],
  ])("encoded IPv4: %s (%s)", (_label, url, address) => {
    expect(expectRefused(() => checkOutboundUrl(url)).message).toContain(address);
  });

  test.each([
    ["http://metadata.google.internal/computeMetadata/v1/", "metadata"],
    ["http://metadata.google.internal./", "metadata"],
    ["http://metadata/", "metadata"],
    ["http://instance-data/latest/", "metadata"],
    ["http://instance-data.ec2.internal/", "metadata"],
    ["http://%6c%6f%63%61%6c%68%6f%73%74/", "loopback"],
    ["http://vault.internal/", ".internal"],
    ["http://printer.local/", ".local"],
    ["http://router.home.arpa/", ".home.arpa"],
    ["http://db.localdomain/", ".localdomain"],
    ["http://nas.lan/", ".lan"],
    ["http://intranet/", "single-label"],
    ["http://[fe80::1%25eth0]/", "valid absolute URL"],
    ["http://1.2.3.4.5/", "valid absolute URL"],
  ])("hostname: %s (%s)", (url, reason) => {
    expect(expectRefused(() => checkOutboundUrl(url)).message).toContain(reason);
  });

  it("ports outside allowedPorts, counting the scheme's default port", () => {
    const policy = { allowedPorts: [443] };
    expect(checkOutboundUrl("https://example.com/", policy).hostname).toBe("example.com");
    expectRefused(() => checkOutboundUrl("https://example.com:8443/", policy));
    expectRefused(() => checkOutboundUrl("http://example.com/", policy));
  });
});

describe("hostRefusal on spellings a non-WHATWG parser would leave alone", () => {
  test.each([
    ["2130706433", "127.0.0.1"],
    ["0177.0.0.1", "127.0.0.1"],
    ["0x7f.0.0.1", "127.0.0.1"],
    ["0x7f000001", "127.0.0.1"],
    ["0X7F000001", "127.0.0.1"],
    ["127.1", "127.0.0.1"],
    ["127.0.0.1.", "127.0.0.1"],
    ["0xa9.0xfe.0xa9.0xfe", "169.254.169.254"],
    ["%31%32%37.0.0.1", "percent-encoded"],
    ["LOCALHOST", "loopback"],
    ["Metadata.Google.Internal.", "metadata"],
    ["[::FFFF:7F00:1]", "IPv4-mapped"],
    ["[fe80::1%eth0]", "zone"],
    ["09.0.0.1", "neither a valid IPv4"],
    ["256.0.0.1", "neither a valid IPv4"],
    ["1.2.3.4.5", "neither a valid IPv4"],
    ["[1::2::3]", "not a valid IPv6"],
    ["", "no host"],
  ])("%s", (host, reason) => {
    expect(hostRefusal(host)).toContain(reason);
  });
});

describe("checkOutboundUrl allows", () => {
  test.each([
    ["https://example.com/x", "example.com"],
    ["https://93.184.216.34/", "93.184.216.34"],
    ["https://1.1.1.1/dns-query", "1.1.1.1"],
    ["http://example.com:8080/path?q=1", "example.com"],
    ["https://[2606:4700:4700::1111]/", "[2606:4700:4700::1111]"],
    ["https://[64:ff9b::8.8.8.8]/", "[64:ff9b::808:808]"],
    ["https://[2002:5db8:d822::1]/", "[2002:5db8:d822::1]"],
    ["https://sub.example.co.uk./", "sub.example.co.uk."],
    ["https://bücher.example/", "xn--bcher-kva.example"],
    ["https://localhost.example.com/", "localhost.example.com"],
    ["https://172.32.0.1/", "172.32.0.1"],
    ["https://100.128.0.1/", "100.128.0.1"],
    ["https://198.20.0.1/", "198.20.0.1"],
    ["https://169.255.0.1/", "169.255.0.1"],
  ])("%s", (url, hostname) => {
    expect(checkOutboundUrl(url).hostname).toBe(hostname);
  });

  test.each([
    "http://127.0.0.1:8787/mcp",
    "http://localhost:3000/",
    "http://[::1]/",
    "http://10.0.0.5/",
    "http://printer.local/",
  ])("%s when allowPrivate is set (local development)", (url) => {
    expect(checkOutboundUrl(url, { allowPrivate: true })).toBeInstanceOf(URL);
    expectRefused(() => checkOutboundUrl(url));
  });

  it("allowPrivate still refuses other schemes and credentials", () => {
    expectRefused(() => checkOutboundUrl("file:///etc/passwd", { allowPrivate: true }));
    expectRefused(() => checkOutboundUrl("http://u:p@127.0.0.1/", { allowPrivate: true }));
  });
});

describe("outboundFetch", () => {
  it("refuses a bad URL before sending anything", async () => {
    const { calls, fetcher } = fakeFetch(() => new Response("no"));
    await expect(outboundFetch("http://169.254.169.254/", {}, { fetcher })).rejects.toMatchObject({
      code: "UNPROCESSABLE",
    });
    expect(calls).toHaveLength(0);
  });

  it("passes the request through with redirect: manual and returns the body", async () => {
    const { calls, fetcher } = fakeFetch(
      () => new Response("hello", { status: 201, headers: { "x-up": "1" } }),
    );
    const res = await outboundFetch(
      "https://example.com/hook",
      { method: "POST", body: "{}", headers: { "content-type": "application/json" } },
      { fetcher },
    );
    expect(res.status).toBe(201);
    expect(res.headers.get("x-up")).toBe("1");
    expect(await res.text()).toBe("hello");
    expect(calls).toHaveLength(1);
    expect(calls[0]?.init).toMatchObject({ method: "POST", body: "{}", redirect: "manual" });
    expect(new Headers(calls[0]?.init.headers).get("content-type")).toBe("application/json");
  });

  it("maps a network error to BAD_GATEWAY, even one thrown synchronously", async () => {
    const { fetcher } = fakeFetch(() => {
      throw new TypeError("Network connection lost.");
    });
    const syncFetcher: FetchImpl = () => {
      throw new TypeError("bad init");
    };
    for (const f of [fetcher, syncFetcher]) {
      await expect(outboundFetch("https://example.com/", {}, { fetcher: f })).rejects.toMatchObject({
        code: "BAD_GATEWAY",
        message: expect.stringContaining("example.com"),
      });
    }
  });

  describe("redirects", () => {
    test.each([
      "http://169.254.169.254/latest/meta-data/iam/",
      "http://0xa9fea9fe/",
      "http://[::ffff:169.254.169.254]/",
      "http://localhost/admin",
      "file:///etc/passwd",
      "http://user:pw@example.com/",
    ])("refuses a hop to %s without calling it", async (location) => {
      const { calls, fetcher } = fakeFetch(() => redirect(location));
      await expect(outboundFetch("https://example.com/start", {}, { fetcher })).rejects.toMatchObject({
        code: "BAD_GATEWAY",
        message: expect.stringContaining("refused"),
      });
      expect(calls.map((c) => c.url)).toEqual(["https://example.com/start"]);
    });

    it("follows relative and absolute hops, each through the fetcher", async () => {
      const { calls, fetcher } = fakeFetch((url) =>
        url.endsWith("/start")
          ? redirect("/next", 301)
          : url.endsWith("/next")
            ? redirect("https://cdn.example.net/final", 307)
            : new Response("done"),
      );
      const res = await outboundFetch("https://example.com/start", {}, { fetcher });
      expect(await res.text()).toBe("done");
      expect(calls.map((c) => c.url)).toEqual([
        "https://example.com/start",
        "https://example.com/next",
        "https://cdn.example.net/final",
      ]);
      expect(calls.every((c) => c.init.redirect === "manual")).toBe(true);
    });

    it("stops after maxRedirects hops", async () => {
      const { calls, fetcher } = fakeFetch((_url, _init, n) => redirect(`/loop/${n}`));
      await expect(
        outboundFetch("https://example.com/", {}, { fetcher, maxRedirects: 2 }),
      ).rejects.toMatchObject({
        code: "BAD_GATEWAY",
        message: expect.stringContaining("more than 2 redirects"),
      });
      expect(calls).toHaveLength(3);
    });

    it("turns a POST into a body-less GET on 303 and keeps it on 307", async () => {
      for (const [status, method, body] of [
        [303, "GET", null],
        [307, "POST", "payload"],
      ] as const) {
        const { calls, fetcher } = fakeFetch((_url, _init, n) =>
          n === 1 ? redirect("/b", status) : new Response("ok"),
        );
        await outboundFetch(
          "https://example.com/a",
          { method: "POST", body: "payload", headers: { "content-type": "text/plain" } },
          { fetcher },
        );
        expect(calls[1]?.init).toMatchObject({ method, body });
        expect(new Headers(calls[1]?.init.headers).has("content-type")).toBe(body !== null);
      }
    });

    it("drops credentials on a cross-origin hop and keeps them on a same-origin one", async () => {
      const { calls, fetcher } = fakeFetch((url) =>
        url.endsWith("/a")
          ? redirect("/b")
          : url.endsWith("/b")
            ? redirect("https://other.example/c")
            : new Response(),
      );
      await outboundFetch(
        "https://example.com/a",
        { headers: { authorization: "Bearer t", "x-keep": "1" } },
        { fetcher },
      );
      const auth = calls.map((c) => new Headers(c.init.headers).get("authorization"));
      expect(auth).toEqual(["Bearer t", "Bearer t", null]);
      expect(new Headers(calls[2]?.init.headers).get("x-keep")).toBe("1");
    });

    it("returns the 3xx unfollowed for redirect: manual and fails for redirect: error", async () => {
      const { fetcher } = fakeFetch(() => redirect("https://example.com/elsewhere"));
      const res = await outboundFetch("https://example.com/", { redirect: "manual" }, { fetcher });
      expect(res.status).toBe(302);
      expect(res.headers.get("location")).toBe("https://example.com/elsewhere");
      await expect(
        outboundFetch("https://example.com/", { redirect: "error" }, { fetcher }),
      ).rejects.toMatchObject({
        code: "BAD_GATEWAY",
      });
    });
  });

  describe("response size", () => {
    it("refuses a declared Content-Length over the limit up front", async () => {
      const { fetcher } = fakeFetch(
        () => new Response("x".repeat(2000), { headers: { "content-length": "2000" } }),
      );
      await expect(
        outboundFetch("https://example.com/", {}, { fetcher, maxResponseBytes: 1000 }),
      ).rejects.toMatchObject({
        code: "BAD_GATEWAY",
        message: expect.stringContaining("larger than 1000 bytes"),
      });
    });

    it("fails the read of an undeclared body once it passes the limit", async () => {
      const { fetcher } = fakeFetch(() => new Response(stalledBody(["a".repeat(600), "b".repeat(600)])));
      const res = await outboundFetch("https://example.com/", {}, { fetcher, maxResponseBytes: 1000 });
      expect(res.status).toBe(200);
      await expect(res.text()).rejects.toMatchObject({ code: "BAD_GATEWAY" });
    });

    it("lets a body exactly at the limit through", async () => {
      const { fetcher } = fakeFetch(() => new Response("z".repeat(1000)));
      const res = await outboundFetch("https://example.com/", {}, { fetcher, maxResponseBytes: 1000 });
      expect(await res.text()).toHaveLength(1000);
    });
  });

  describe("timeout", () => {
    it("fails with GATEWAY_TIMEOUT when no response arrives in time", async () => {
      const started = Date.now();
      await expect(
        outboundFetch("https://example.com/", {}, { fetcher: hangingFetch, timeoutMs: 50 }),
      ).rejects.toMatchObject({ code: "GATEWAY_TIMEOUT" });
      expect(Date.now() - started).toBeLessThan(2000);
    });

    it("aborts the underlying fetch through its signal", async () => {
      let signal: AbortSignal | undefined;
      const fetcher: FetchImpl = (url, init) => {
        signal = init.signal ?? undefined;
        return hangingFetch(url, init);
      };
      await expect(outboundFetch("https://example.com/", {}, { fetcher, timeoutMs: 50 })).rejects.toThrow();
      expect(signal?.aborted).toBe(true);
    });

    it("times out even when the fetcher ignores its signal", async () => {
      const fetcher: FetchImpl = () => new Promise(() => undefined);
      await expect(
        outboundFetch("https://example.com/", {}, { fetcher, timeoutMs: 50 }),
      ).rejects.toMatchObject({
        code: "GATEWAY_TIMEOUT",
      });
    });

    it("covers a body that stalls after the headers arrive", async () => {
      const { fetcher } = fakeFetch(() => new Response(stalledBody(["partial"])));
      const res = await outboundFetch("https://example.com/", {}, { fetcher, timeoutMs: 50 });
      await expect(res.text()).rejects.toMatchObject({ code: "GATEWAY_TIMEOUT" });
    });

    it("rejects with the caller's own reason when the caller aborts", async () => {
      const controller = new AbortController();
      const reason = new Error("client went away");
      const pending = outboundFetch(
        "https://example.com/",
        { signal: controller.signal },
        { fetcher: hangingFetch, timeoutMs: 5_000 },
      );
      controller.abort(reason);
      await expect(pending).rejects.toBe(reason);
    });
  });
});
