/**
 * Healthcheck of the relay services (docker-compose.yml): `node ops/relays/probe.ts <kind> <port>`
 * exits 0 when the service on that port answers as it should. The node image has no curl, and
 * wget treats the Neon relay's correct answer (426) as a failure.
 */
const [kind, port] = process.argv.slice(2);
const base = `http://127.0.0.1:${port}/`;

async function healthy(): Promise<boolean> {
  switch (kind) {
    case "neon":
      // A plain HTTP request gets 426 (upgrade required): the relay is listening.
      return (await fetch(base)).status === 426;
    case "upstash": {
      // PING through the relay: healthy only when the relay and Redis both work.
      const response = await fetch(base, {
        method: "POST",
        headers: { authorization: `Bearer ${process.env.UPSTASH_TOKEN}` },
        body: JSON.stringify(["PING"]),
      });
      return ((await response.json()) as { result?: unknown }).result === "PONG";
    }
    case "model":
      await fetch(base);
      return true;
    default:
      throw new Error(`unknown service kind: ${kind}`);
  }
}

healthy().then(
  (ok) => process.exit(ok ? 0 : 1),
  () => process.exit(1),
);
