import { exports } from "cloudflare:workers";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/cfworker";
import { randomIp } from "../../test/harness/api";

/**
 * Test-only: the SDK's own MCP client connected over Streamable HTTP to a built-in server of
 * the real Worker (its default export, in this isolate), authenticated with `token`. Close it
 * when done.
 *
 * @example
 * const client = await connectBuiltin("calculator", token);
 * const result = await client.callTool({ name: "add", arguments: { a: 1, b: 2 } });
 */
export async function connectBuiltin(server: string, token: string): Promise<Client> {
  const client = new Client(
    { name: "meridian-test", version: "1.0.0" },
    { jsonSchemaValidator: new CfWorkerJsonSchemaValidator() },
  );
  const transport = new StreamableHTTPClientTransport(
    new URL(`https://api.meridian.test/v1/mcp/builtin/${server}`),
    {
      fetch: (url, init) => exports.default.fetch(new Request(url, init)),
      // A client address of its own, so tests never share a per-IP rate-limit bucket.
      requestInit: { headers: { authorization: `Bearer ${token}`, "cf-connecting-ip": randomIp() } },
    },
  );
  await client.connect(transport);
  return client;
}
