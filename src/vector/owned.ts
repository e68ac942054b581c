// Indexes other modules keep through the VectorPort (a matrix corpus's, the pathway's traces): the
// public vector routes may read and search them, never write, delete items from or drop them, so a
// user cannot break a corpus or erase agent memory by a raw vector call. The port bypasses this.
import { ReservedPrefix } from "../errors.ts";

/** Name prefix → the module and where its index is changed instead. */
const OWNED: readonly (readonly [prefix: string, owner: string])[] = [
  ["matrix-", "the matrix module (build or delete its corpus under /v1/matrix/corpora)"],
  ["pathway-", "the pathway module (its traces, under /v1/pathway/traces)"],
];

/** Throws 403 reserved_prefix when `name` is (or would be) an index a module owns. */
export function assertNotModuleIndex(name: string): void {
  const owned = OWNED.find(([prefix]) => name.startsWith(prefix));
  if (owned) {
    throw new ReservedPrefix(`index "${name}" belongs to ${owned[1]}; the vector API reads and searches it but does not change it`, {
      prefix: owned[0],
    });
  }
}
