import { z } from "zod";
import type { AgentTool } from "./types";

const input = z
  .object({
    operation: z.enum(["add", "subtract", "multiply", "divide", "power"]).describe("The operation."),
    a: z.number().describe("The left operand."),
    b: z.number().describe("The right operand."),
  })
  .strict();

/** Thrown for inputs with no finite answer; the runtime reports it to the model as the tool's error. */
export class CalculationError extends Error {}

/**
 * Arithmetic on two numbers. Results that are not finite (division by zero, overflow) are
 * errors rather than `Infinity`/`NaN`, which JSON cannot carry.
 */
export const calculator: AgentTool<z.infer<typeof input>> = {
  name: "calculator",
  description: "Adds, subtracts, multiplies, divides or raises two numbers. Use it for any arithmetic.",
  input,
  async run({ operation, a, b }) {
    if (operation === "divide" && b === 0) throw new CalculationError("division by zero");
    const result =
      operation === "add"
        ? a + b
        : operation === "subtract"
          ? a - b
          : operation === "multiply"
            ? a * b
            : operation === "divide"
              ? a / b
              : a ** b;
    if (!Number.isFinite(result))
      throw new CalculationError(`the result of ${operation} is not a finite number`);
    return { result };
  },
};
