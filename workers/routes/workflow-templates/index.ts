import type { App } from "../../app";
import { registerGetWorkflowTemplate } from "./get-workflow-template";
import { registerInstantiateWorkflowTemplate } from "./instantiate-workflow-template";
import { registerListWorkflowTemplates } from "./list-workflow-templates";

/** Built-in workflow templates: listed for every tenant, instantiated into a tenant's workflows. */
export function registerWorkflowTemplateRoutes(app: App) {
  registerListWorkflowTemplates(app);
  registerGetWorkflowTemplate(app);
  registerInstantiateWorkflowTemplate(app);
}
