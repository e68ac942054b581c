// What a loader passed over in the store: objects it could not use (damaged, too large, under a
// name no writer of ours makes), each with the reason. Loaders skip such an object instead of
// failing, so one bad object never keeps the process from starting; this is how they still say so.
// /health shows the total and the first few by key (object keys, never paths of this machine).

/** Why an object was passed over. */
export type SkipReason =
  /** The store could not read it (a disk or network error on that object). */
  | "unreadable"
  /** Larger than any record its writer produces: closed without being read. */
  | "too_large"
  | "not_json"
  /** JSON, but not a valid record of its kind. */
  | "invalid"
  /** A valid record, but its body names another key (copied or restored to the wrong place). */
  | "mismatched"
  /** Its name is not one this prefix's writer makes: a number beyond the digits of its name, a bad name. */
  | "bad_name";

export interface SkippedObject {
  key: string;
  reason: SkipReason;
}

export interface SkippedDetail {
  count: number;
  /** The first objects passed over, in the order they were met. */
  objects: SkippedObject[];
}

/** How many skipped objects /health names; the count is always complete. */
const SHOWN = 20;

export class SkipReport {
  private readonly keys = new Set<string>();
  private readonly shown: SkippedObject[] = [];

  /** Records `key` once (a reload that meets it again does not count it twice). */
  add(key: string, reason: SkipReason): void {
    if (this.keys.has(key)) return;
    this.keys.add(key);
    if (this.shown.length < SHOWN) this.shown.push({ key, reason });
  }

  has(key: string): boolean {
    return this.keys.has(key);
  }

  get count(): number {
    return this.keys.size;
  }

  detail(): SkippedDetail {
    return { count: this.keys.size, objects: [...this.shown] };
  }
}
