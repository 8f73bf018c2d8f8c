import type { App } from "../../app";
import { registerRagQuery } from "./query";

/** Cited answers from knowledge-base collections. */
export function registerRagQueryRoutes(app: App) {
  registerRagQuery(app);
}
