// What the process is doing while its modules open. The port answers from the first moment
// (src/serve.ts); until every module is open, /health reads this state to say "starting", which
// modules are open, and how far the slow ones are (the vector module: indexes loaded of total),
// so a supervisor can tell a process that is starting from one that is dead.

export type OpenState = "starting" | "ok";

export interface StartingBody {
  status: "starting";
  modules: Record<string, OpenState>;
  progress: Record<string, Record<string, unknown>>;
  elapsed_ms: number;
}

export class StartupState {
  private readonly states: Record<string, OpenState> = {};
  private readonly figures: Record<string, Record<string, unknown>> = {};
  private readonly startedAt = performance.now();
  private done = false;

  /** `names`: every module in the order it opens, so /health lists them all from the start. */
  constructor(names: readonly string[]) {
    for (const name of names) this.states[name] = "starting";
  }

  /** The module is open, in `ms`; its last figures stay (e.g. how many indexes it loaded). */
  opened(name: string, ms: number): void {
    this.states[name] = "ok";
    this.figures[name] = { ...this.figures[name], ms: Math.round(ms) };
  }

  /** Figures a module reports while it opens (merged into what it reported before). */
  report(name: string, figures: Record<string, unknown>): void {
    this.figures[name] = { ...this.figures[name], ...figures };
  }

  /** Every module is open and the real router serves. */
  finish(): void {
    this.done = true;
  }

  get ready(): boolean {
    return this.done;
  }

  /** The body of /health while starting (copies, so a caller cannot change the state). */
  body(): StartingBody {
    const progress: Record<string, Record<string, unknown>> = {};
    for (const [name, figures] of Object.entries(this.figures)) progress[name] = { ...figures };
    return { status: "starting", modules: { ...this.states }, progress, elapsed_ms: Math.round(performance.now() - this.startedAt) };
  }
}
