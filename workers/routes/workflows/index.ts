import type { App } from "../../app";
import { registerCreateWorkflow } from "./create-workflow";
import { registerDeleteWorkflow } from "./delete-workflow";
import { registerGetWorkflow } from "./get-workflow";
import { registerListWorkflowVersions } from "./list-workflow-versions";
import { registerListWorkflows } from "./list-workflows";
import { registerUpdateWorkflow } from "./update-workflow";

/** Workflow definitions: versioned, validated step graphs that executions run. */
export function registerWorkflowRoutes(app: App) {
  registerCreateWorkflow(app);
  registerListWorkflows(app);
  registerGetWorkflow(app);
  registerUpdateWorkflow(app);
  registerDeleteWorkflow(app);
  registerListWorkflowVersions(app);
}
