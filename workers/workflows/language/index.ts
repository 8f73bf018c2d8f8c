export { conditionReferences, evaluateCondition } from "./conditions";
export type { ExpressionContext } from "./context";
export { ExpressionError, UnresolvedVariableError } from "./errors";
export { type CompiledJsonPath, compileJsonPath, queryJsonPath } from "./jsonpath";
export type { VariableReference } from "./reference";
export { renderString, resolveValue, templateReferences } from "./template";
