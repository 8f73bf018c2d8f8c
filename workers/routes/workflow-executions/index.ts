import type { App } from "../../app";
import { registerCancelWorkflowExecution } from "./cancel-workflow-execution";
import { registerExecuteWorkflow } from "./execute-workflow";
import { registerFollowWorkflowExecution } from "./execution-events";
import { registerGetWorkflowExecution } from "./get-workflow-execution";
import { registerListWorkflowExecutions } from "./list-workflow-executions";
import { registerResumeWorkflowStep } from "./resume-workflow-step";

/** Starting, following, cancelling and approving workflow executions. */
export function registerWorkflowExecutionRoutes(app: App) {
  registerExecuteWorkflow(app);
  registerListWorkflowExecutions(app);
  registerGetWorkflowExecution(app);
  registerFollowWorkflowExecution(app);
  registerCancelWorkflowExecution(app);
  registerResumeWorkflowStep(app);
}
