import type { App } from "../../app";
import { registerExportUsage } from "./export-usage";
import { registerGetUsage } from "./get-usage";

/** Metered usage (read only: events are written by the work they bill). */
export function registerUsageRoutes(app: App) {
  registerGetUsage(app);
  registerExportUsage(app);
}
