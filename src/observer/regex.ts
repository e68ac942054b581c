// Bounded regular expressions for truth rules. A pattern from a request must not hang the process:
// JavaScriptCore backtracks, and measured here `/a*a*b/` against 4,096 "a"s took 6.3 s, with no
// nested quantifier at all, so a static check alone cannot be enough. Three bounds:
//  1. caps on the pattern (256 characters) and the input (8,192 characters);
//  2. a static refusal of the classic catastrophic shapes (a quantified group that itself holds a
//     quantifier or an alternation, backreferences), which fails fast with a reason;
//  3. a time budget: patterns run in a worker thread, and one that has not answered within
//     REGEX_BUDGET_MS is stopped (the worker is terminated and replaced) — "could not check".
// A worker round trip costs ≈0.08 ms here; a replacement worker ≈3 ms.

export const MAX_PATTERN = 256;
export const MAX_INPUT = 8192;
export const REGEX_BUDGET_MS = 100;
const FLAGS = /^[imsu]*$/;

/** Why a pattern is refused before it runs, or null. */
export function unsafePattern(pattern: string, flags: string): string | null {
  if (pattern.length > MAX_PATTERN) return `the pattern is longer than ${MAX_PATTERN} characters`;
  if (!FLAGS.test(flags)) return "flags may only be i, m, s and u";
  try {
    new RegExp(pattern, flags);
  } catch (err) {
    return `not a valid regular expression: ${(err as Error).message}`;
  }
  if (/\\[1-9]|\\k</.test(pattern)) return "backreferences are not allowed";
  // Walk the groups: a group followed by a quantifier must hold neither a quantifier nor "|".
  const stack: { quantified: boolean; alt: boolean }[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === "\\") {
      i++;
      continue;
    }
    if (ch === "[") {
      // Skip a character class (quantifier characters inside are literals).
      for (i++; i < pattern.length && pattern[i] !== "]"; i++) if (pattern[i] === "\\") i++;
      continue;
    }
    if (ch === "(") stack.push({ quantified: false, alt: false });
    else if (ch === "|" && stack.length > 0) stack.at(-1)!.alt = true;
    else if (ch === ")") {
      const inner = stack.pop();
      const next = pattern[i + 1];
      const quantifiedGroup = next === "*" || next === "+" || next === "{" || next === "?";
      if (inner && quantifiedGroup && next !== "?" && (inner.quantified || inner.alt)) {
        return "a quantified group holding a quantifier or an alternation (catastrophic backtracking) is not allowed";
      }
      if (inner && stack.length > 0 && (inner.quantified || quantifiedGroup)) stack.at(-1)!.quantified = true;
    } else if ((ch === "*" || ch === "+" || ch === "{") && stack.length > 0) stack.at(-1)!.quantified = true;
  }
  return null;
}

const WORKER_SOURCE = `self.onmessage = (e) => {
  const { id, pattern, flags, input } = e.data;
  try { postMessage({ id, match: new RegExp(pattern, flags).test(input) }); }
  catch (err) { postMessage({ id, error: String(err && err.message || err) }); }
};`;

export type RegexOutcome = { match: boolean } | { error: string };

/** Runs patterns in one worker thread, one at a time, each under the time budget. */
export class RegexRunner {
  private worker: Worker | null = null;
  private url: string | null = null;
  private next = 0;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly budgetMs = REGEX_BUDGET_MS) {}

  test(pattern: string, flags: string, input: string): Promise<RegexOutcome> {
    const run = this.chain.then(() => this.run(pattern, flags, input));
    this.chain = run.catch(() => {});
    return run;
  }

  private spawn(): Worker {
    this.url ??= URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "application/javascript" }));
    const w = new Worker(this.url);
    // Never keeps the process alive on its own.
    (w as unknown as { unref?: () => void }).unref?.();
    return w;
  }

  private run(pattern: string, flags: string, input: string): Promise<RegexOutcome> {
    if (!this.worker) this.worker = this.spawn();
    const w = this.worker;
    const id = ++this.next;
    return new Promise<RegexOutcome>((resolve) => {
      const timer = setTimeout(() => {
        w.terminate();
        if (this.worker === w) this.worker = null;
        resolve({ error: `the pattern did not finish within its ${this.budgetMs} ms budget` });
      }, this.budgetMs);
      w.onmessage = (e: MessageEvent) => {
        if (e.data?.id !== id) return;
        clearTimeout(timer);
        resolve(e.data.error !== undefined ? { error: String(e.data.error) } : { match: e.data.match === true });
      };
      w.onerror = (e) => {
        clearTimeout(timer);
        w.terminate();
        if (this.worker === w) this.worker = null;
        resolve({ error: `the pattern could not be run: ${e.message}` });
      };
      w.postMessage({ id, pattern, flags, input });
    });
  }

  close(): void {
    this.worker?.terminate();
    this.worker = null;
    if (this.url) URL.revokeObjectURL(this.url);
    this.url = null;
  }
}
