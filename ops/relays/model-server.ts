/**
 * The compose stack's `model` service: the local server speaking Anthropic's Messages API that
 * `npm run dev` starts when no ANTHROPIC_API_KEY is set, so agent runs (and their token and cost
 * metrics) work against the stack without a provider account.
 */
import { startModelServer } from "../../scripts/local-stack/model-server.ts";

const model = await startModelServer({
  host: "0.0.0.0",
  port: Number(process.env.PORT ?? 8790),
  apiKey: process.env.MODEL_API_KEY ?? "local-model-key",
});
console.log(`Model server listening on ${model.url}`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void model.close().then(() => process.exit(0)));
}
