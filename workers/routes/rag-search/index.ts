import type { App } from "../../app";
import { registerRagSearch } from "./search";

/** Retrieval over knowledge-base collections (the collections and documents are in their own folders). */
export function registerRagSearchRoutes(app: App) {
  registerRagSearch(app);
}
