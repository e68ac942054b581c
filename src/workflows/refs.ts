// References inside a step's input: `{{inputs.query}}`, `{{steps.search.output.results}}`,
// `{{steps.search.output.results[0].id}}`. A string that is exactly one reference becomes the
// referenced value with its JSON type (an array stays an array); references inside a longer string
// are stringified into it. Resolution never evaluates code: a reference is a root and a path of
// names and indexes, nothing else.
import { StepFailed } from "./step-error.ts";

export type Segment = string | number;
export type Ref = { root: "inputs"; path: Segment[]; text: string } | { root: "steps"; step: string; path: Segment[]; text: string };

/** `{{ expr }}`, with optional spaces inside the braces. */
const REF = /\{\{\s*([^{}]*?)\s*\}\}/g;
const WHOLE = /^\{\{\s*([^{}]*?)\s*\}\}$/;
const NAME = /^[A-Za-z_][A-Za-z0-9_-]*/;

/** Parses one expression (the text between the braces); throws a plain Error saying what is wrong. */
export function parseRef(expr: string): Ref {
  const text = `{{${expr}}}`;
  const path: Segment[] = [];
  let rest = expr;
  const head = NAME.exec(rest);
  if (!head) throw new Error(`${text} must start with inputs or steps`);
  rest = rest.slice(head[0].length);
  while (rest.length > 0) {
    if (rest[0] === ".") {
      const m = NAME.exec(rest.slice(1)) ?? /^\d+/.exec(rest.slice(1));
      if (!m) throw new Error(`${text}: expected a name after "."`);
      path.push(m[0]);
      rest = rest.slice(1 + m[0].length);
    } else if (rest[0] === "[") {
      const m = /^\[(\d{1,9})\]/.exec(rest);
      if (!m) throw new Error(`${text}: an index is a number in brackets, e.g. [0]`);
      path.push(Number(m[1]));
      rest = rest.slice(m[0].length);
    } else throw new Error(`${text}: unexpected "${rest[0]}"`);
  }
  if (head[0] === "inputs") {
    if (path.length === 0 || typeof path[0] !== "string") throw new Error(`${text}: name an input, e.g. {{inputs.query}}`);
    return { root: "inputs", path, text };
  }
  if (head[0] === "steps") {
    const [step, field, ...tail] = path;
    if (typeof step !== "string" || field !== "output")
      throw new Error(`${text}: a step reference reads steps.<id>.output, e.g. {{steps.search.output.results}}`);
    return { root: "steps", step, path: tail, text };
  }
  throw new Error(`${text} must start with inputs or steps`);
}

/** A reference found in a value, and the field path (as validation reports paths) where it sits. */
export interface Found {
  at: string;
  ref?: Ref;
  /** Set instead of ref when the expression does not parse. */
  error?: string;
}

const join = (at: string, key: string | number) => (typeof key === "number" ? `${at}[${key}]` : at ? `${at}.${key}` : key);

/** Every reference in `value` (deeply), with where it sits. */
export function findRefs(value: unknown, at = ""): Found[] {
  const out: Found[] = [];
  const walk = (x: unknown, path: string) => {
    if (typeof x === "string") {
      for (const m of x.matchAll(REF)) {
        try {
          out.push({ at: path, ref: parseRef(m[1]!) });
        } catch (err) {
          out.push({ at: path, error: (err as Error).message });
        }
      }
    } else if (Array.isArray(x)) {
      for (const [i, item] of x.entries()) walk(item, join(path, i));
    } else if (x !== null && typeof x === "object") for (const [k, item] of Object.entries(x)) walk(item, join(path, k));
  };
  walk(value, at);
  return out;
}

/** What references read: the run's inputs and the outputs of finished steps. */
export interface Scope {
  inputs: Record<string, unknown>;
  outputs: ReadonlyMap<string, unknown>;
}

/** A marker a step output carries when it was over workflows.max_output_bytes and was not kept. */
export const TRUNCATED = "_truncated";

function read(ref: Ref, scope: Scope): unknown {
  let cur: unknown;
  let where: string;
  if (ref.root === "inputs") {
    cur = scope.inputs;
    where = "inputs";
  } else {
    if (!scope.outputs.has(ref.step)) throw new StepFailed("reference", `${ref.text}: step "${ref.step}" has no output`);
    cur = scope.outputs.get(ref.step);
    where = `steps.${ref.step}.output`;
    if (cur !== null && typeof cur === "object" && (cur as Record<string, unknown>)[TRUNCATED] === true) {
      throw new StepFailed(
        "reference",
        `${ref.text}: the output of step "${ref.step}" was over workflows.max_output_bytes and was not kept; narrow it (a transform step, max_rows, k)`,
      );
    }
  }
  for (const seg of ref.path) {
    const here = cur;
    if (typeof seg === "number") {
      if (!Array.isArray(here)) throw new StepFailed("reference", `${ref.text}: ${where} is not an array`);
      if (seg >= here.length) throw new StepFailed("reference", `${ref.text}: ${where} has ${here.length} element(s), no [${seg}]`);
      cur = here[seg];
    } else {
      if (here === null || typeof here !== "object" || Array.isArray(here) || !Object.hasOwn(here, seg)) {
        throw new StepFailed("reference", `${ref.text}: ${where} has no field "${seg}"`);
      }
      cur = (here as Record<string, unknown>)[seg];
    }
    where = typeof seg === "number" ? `${where}[${seg}]` : `${where}.${seg}`;
  }
  return cur;
}

const stringify = (x: unknown) => (typeof x === "string" ? x : (JSON.stringify(x) ?? "null"));

/** `value` with every reference replaced; throws StepFailed("reference") naming one that has no value. */
export function resolve(value: unknown, scope: Scope): unknown {
  if (typeof value === "string") {
    if (!value.includes("{{")) return value;
    const whole = WHOLE.exec(value);
    if (whole) return read(parseRef(whole[1]!), scope);
    return value.replace(REF, (_m, expr: string) => stringify(read(parseRef(expr), scope)));
  }
  if (Array.isArray(value)) return value.map((x) => resolve(x, scope));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(value)) out[k] = resolve(x, scope);
    return out;
  }
  return value;
}
