import type { App } from "../../app";
import { registerListAuditLogs } from "./list-audit-logs";

/** The tenant's audit trail (read only: rows are written by the routes that change things). */
export function registerAuditLogsRoutes(app: App) {
  registerListAuditLogs(app);
}
