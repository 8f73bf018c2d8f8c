import { parallelAnalysis } from "./parallel-analysis";
import { ragAnswerWithReview } from "./rag-answer-with-review";
import { researchThenSummarise } from "./research-then-summarise";
import { supervisorWithWorkers } from "./supervisor-with-workers";
import { toolAugmentedDataTask } from "./tool-augmented-data-task";
import type { WorkflowTemplate } from "./types";

export { fill, placeholdersIn, UnknownPlaceholderError } from "./placeholders";
export type { TemplateAgent, TemplateDefinition, TemplateTool, WorkflowTemplate } from "./types";
export { DEFAULT_TEMPLATE_MODEL } from "./types";

/**
 * The workflow templates built into the platform, in the order they are listed. Code, not rows:
 * every tenant sees the same ones and a release changes them for everyone; a tenant's copy (the
 * workflow and agents an instantiation creates) is its own and never changes with them.
 */
export const WORKFLOW_TEMPLATES: readonly WorkflowTemplate[] = [
  researchThenSummarise,
  parallelAnalysis,
  supervisorWithWorkers,
  ragAnswerWithReview,
  toolAugmentedDataTask,
];

const byId = new Map(WORKFLOW_TEMPLATES.map((t) => [t.id, t] as const));

/** The template with this id, or undefined. */
export function workflowTemplate(id: string): WorkflowTemplate | undefined {
  return byId.get(id);
}
