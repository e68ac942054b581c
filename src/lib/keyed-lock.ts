// An in-process lock per key: calls for one key run one after another, calls for different keys
// run freely. It orders this process only; writers in other processes are kept apart by the store
// (put-if-absent), not by this.
export class KeyedLock {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Runs `fn` once every earlier call for `key` has settled, whether it succeeded or failed. */
  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const run = prev.then(fn);
    const settled = run.catch(() => {});
    this.tails.set(key, settled);
    // Forget idle keys, so a long-lived process does not keep one entry per key it ever saw.
    void settled.then(() => {
      if (this.tails.get(key) === settled) this.tails.delete(key);
    });
    return run;
  }

  /** Keys with a call queued or running. */
  get size(): number {
    return this.tails.size;
  }
}
