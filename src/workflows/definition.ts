// Checks a workflow before anything runs: unique step ids, known and usable modes, dependencies
// that exist and make no cycle (the cycle is named), references only to declared inputs and to
// ancestors' outputs, `when` conditions that parse and read only ancestors, and every step input
// against its mode's schema (fields holding references are checked when they have values). All
// problems come back at once, each as {path, message} naming the step.
import { ValidationFailed } from "../errors.ts";
import { type FilterNode, parseFilter } from "../filter/parse.ts";
import type { FieldIssue } from "../lib/validate.ts";
import type { Mode, ModeEnv } from "./modes/index.ts";
import { findRefs } from "./refs.ts";
import type { Definition, StepDef } from "./schemas.ts";

export interface Plan {
  steps: StepDef[];
  byId: Map<string, StepDef>;
  /** Every step's ancestors (needs, transitively). */
  ancestors: Map<string, Set<string>>;
  /** Every step's direct dependents. */
  dependents: Map<string, string[]>;
}

export interface Limits {
  maxSteps: number;
  maxRetries: number;
}

/** Field paths named by a filter tree. */
function filterFields(node: FilterNode, out: string[] = []): string[] {
  switch (node.kind) {
    case "and":
    case "or":
      for (const n of node.nodes) filterFields(n, out);
      break;
    case "not":
      filterFields(node.node, out);
      break;
    default:
      out.push(node.field);
  }
  return out;
}

/** Whether an issue at `path` lies at or under a field that holds a reference. */
const under = (path: string, refAt: string) => refAt === "" || path === refAt || path.startsWith(`${refAt}.`) || path.startsWith(`${refAt}[`);

export function checkDefinition(def: Definition, modes: ReadonlyMap<string, Mode>, env: ModeEnv, limits: Limits): Plan {
  const issues: FieldIssue[] = [];
  const steps = def.steps;
  if (steps.length > limits.maxSteps) {
    issues.push({ path: "steps", message: `${steps.length} steps; at most ${limits.maxSteps} (workflows.max_steps)` });
  }
  const byId = new Map<string, StepDef>();
  const index = new Map<string, number>();
  steps.forEach((s, i) => {
    const first = index.get(s.id);
    if (first !== undefined) issues.push({ path: `steps[${i}].id`, message: `step "${s.id}" is declared twice (first at steps[${first}])` });
    else {
      byId.set(s.id, s);
      index.set(s.id, i);
    }
  });
  const at = (id: string) => `steps[${index.get(id)}]`;

  // Dependencies: known ids, then cycles.
  const dependents = new Map<string, string[]>(steps.map((s) => [s.id, []]));
  for (const [id, s] of byId) {
    (s.needs ?? []).forEach((need, k) => {
      if (!byId.has(need)) issues.push({ path: `${at(id)}.needs[${k}]`, message: `step "${id}" needs "${need}", which is not a step of this workflow` });
      else if (!dependents.get(need)!.includes(id)) dependents.get(need)!.push(id);
    });
  }
  const cycle = findCycle(byId);
  if (cycle) {
    const named = `${cycle.join(" → ")} (each needs the next)`;
    issues.push({ path: `${at(cycle[0]!)}.needs`, message: `steps form a cycle: ${named}` });
    throw new ValidationFailed(`workflow is invalid: steps form a cycle: ${named}`, issues);
  }
  const ancestors = new Map<string, Set<string>>();
  const ancestorsOf = (id: string): Set<string> => {
    const known = ancestors.get(id);
    if (known) return known;
    const set = new Set<string>();
    for (const need of byId.get(id)?.needs ?? []) {
      if (!byId.has(need)) continue;
      set.add(need);
      for (const a of ancestorsOf(need)) set.add(a);
    }
    ancestors.set(id, set);
    return set;
  };
  for (const id of byId.keys()) ancestorsOf(id);

  const declared = def.inputs ?? {};
  for (const [id, s] of byId) {
    const where = at(id);
    const say = (path: string, message: string) => issues.push({ path, message: `step "${id}": ${message}` });
    if (s.retries !== undefined && s.retries > limits.maxRetries) say(`${where}.retries`, `at most ${limits.maxRetries} retries (workflows.max_retries)`);
    const mode = modes.get(s.mode);
    if (!mode) {
      say(`${where}.mode`, `unknown mode "${s.mode}"; modes: ${[...modes.keys()].join(", ")}`);
    } else {
      const why = mode.unavailable(env);
      if (why) say(`${where}.mode`, why);
    }
    // References in the input.
    const found = findRefs(s.input, "");
    const deferred: string[] = [];
    for (const f of found) {
      const path = f.at ? `${where}.input.${f.at}` : `${where}.input`;
      deferred.push(f.at);
      if (!f.ref) say(path, f.error!);
      else if (f.ref.root === "inputs") {
        const name = f.ref.path[0] as string;
        if (!Object.hasOwn(declared, name)) say(path, `${f.ref.text} names an input the workflow does not declare (declare it under inputs)`);
      } else if (!byId.has(f.ref.step)) say(path, `${f.ref.text} names no step of this workflow`);
      else if (!ancestorsOf(id).has(f.ref.step)) {
        say(path, `${f.ref.text} reads step "${f.ref.step}", which is not an ancestor of "${id}": add it to needs (directly or through another step)`);
      }
    }
    // The condition.
    if (s.when !== undefined) checkWhen(s.when, id, `${where}.when`, declared, ancestorsOf(id), byId, say);
    // The input against the mode's schema, except under fields that hold references.
    if (mode && !mode.unavailable(env)) {
      for (const issue of mode.check(s.input, env)) {
        if (deferred.some((d) => under(issue.path, d))) continue;
        say(issue.path ? `${where}.input.${issue.path}` : `${where}.input`, `${mode.name} input: ${issue.message}`);
      }
    }
  }
  if (issues.length > 0) {
    const first = issues[0]!;
    throw new ValidationFailed(`workflow is invalid: ${first.message}${issues.length > 1 ? ` (and ${issues.length - 1} more)` : ""}`, issues);
  }
  return { steps, byId, ancestors, dependents };
}

function checkWhen(
  when: string | Record<string, unknown>,
  id: string,
  path: string,
  declared: Record<string, unknown>,
  ancestors: Set<string>,
  byId: Map<string, StepDef>,
  say: (path: string, message: string) => void,
): void {
  for (const f of findRefs(when, "")) {
    if (!f.ref) say(path, f.error!);
    else if (f.ref.root === "steps" && !ancestors.has(f.ref.step)) say(path, `${f.ref.text} reads step "${f.ref.step}", which is not an ancestor of "${id}"`);
  }
  // With references in it, the condition is parsed when it is evaluated.
  if (JSON.stringify(when).includes("{{")) return;
  let node: FilterNode;
  try {
    node = parseFilter(when, "when");
  } catch (err) {
    const d = (err as ValidationFailed).details as FieldIssue[] | undefined;
    say(path, `when: ${d?.[0]?.message ?? (err as Error).message}`);
    return;
  }
  for (const field of filterFields(node)) {
    const parts = field.split(".");
    if (parts[0] === "inputs" && parts[1] !== undefined) {
      if (!Object.hasOwn(declared, parts[1])) say(path, `when reads ${field}, an input the workflow does not declare`);
    } else if (parts[0] === "steps" && parts[1] !== undefined && (parts[2] === "output" || parts[2] === "status")) {
      if (!byId.has(parts[1])) say(path, `when reads ${field}: no step "${parts[1]}"`);
      else if (!ancestors.has(parts[1])) say(path, `when reads ${field}, but "${parts[1]}" is not an ancestor of "${id}": add it to needs`);
    } else say(path, `when reads "${field}": a condition reads inputs.<name>, steps.<id>.output... or steps.<id>.status`);
  }
}

/** A cycle among the steps' needs, as ids from a step back to itself (each needs the next), or null. */
function findCycle(byId: Map<string, StepDef>): string[] | null {
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (id: string): string[] | null => {
    state.set(id, 1);
    stack.push(id);
    for (const need of byId.get(id)?.needs ?? []) {
      if (!byId.has(need)) continue;
      const s = state.get(need);
      if (s === 1) return [...stack.slice(stack.indexOf(need)), need];
      if (s === undefined) {
        const found = visit(need);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(id, 2);
    return null;
  };
  for (const id of byId.keys()) {
    if (state.has(id)) continue;
    const found = visit(id);
    if (found) return found;
  }
  return null;
}

const TYPE_CHECK: Record<string, (x: unknown) => boolean> = {
  string: (x) => typeof x === "string",
  number: (x) => typeof x === "number" && Number.isFinite(x),
  integer: (x) => Number.isSafeInteger(x),
  boolean: (x) => typeof x === "boolean",
  object: (x) => x !== null && typeof x === "object" && !Array.isArray(x),
  array: (x) => Array.isArray(x),
  any: (x) => x !== undefined,
};

/** A run's inputs against the definition's: each declared one present with its type, no others. */
export function checkInputs(def: Definition, inputs: Record<string, unknown>): void {
  const declared = def.inputs ?? {};
  const issues: FieldIssue[] = [];
  for (const [name, type] of Object.entries(declared)) {
    if (!Object.hasOwn(inputs, name)) issues.push({ path: `inputs.${name}`, message: `missing (${type})` });
    else if (!TYPE_CHECK[type]!(inputs[name])) issues.push({ path: `inputs.${name}`, message: `expected ${type}` });
  }
  for (const name of Object.keys(inputs)) {
    if (!Object.hasOwn(declared, name)) issues.push({ path: `inputs.${name}`, message: "not an input of this workflow" });
  }
  if (issues.length > 0) throw new ValidationFailed(`run inputs failed validation: ${issues[0]!.path} ${issues[0]!.message}`, issues);
}
