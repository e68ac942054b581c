// Input validation shared by every transport: a valibot failure becomes ValidationFailed with one
// {path, message} per problem, so a caller sees the same details over HTTP, MCP or ops.call.
import * as v from "valibot";
import { ValidationFailed } from "../errors.ts";

export interface FieldIssue {
  path: string;
  message: string;
}

export function issuesToDetails(issues: readonly v.BaseIssue<unknown>[]): FieldIssue[] {
  return issues.map((issue) => ({
    path: (issue.path ?? []).reduce<string>((acc, item) => {
      const key = item.key;
      if (typeof key === "number") return `${acc}[${key}]`;
      return acc ? `${acc}.${String(key)}` : String(key);
    }, ""),
    message: issue.message,
  }));
}

export function validate<S extends v.GenericSchema>(schema: S, input: unknown, what: string): v.InferOutput<S> {
  const result = v.safeParse(schema, input);
  if (!result.success) throw new ValidationFailed(`${what} failed validation`, issuesToDetails(result.issues));
  return result.output;
}
