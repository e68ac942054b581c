// Which versions of a dataset keep their data: the newest `keep_versions` (the live one and a
// tombstone count) and every version that was live within the last `keep_days`. A version stops
// being live when the next one is committed, so its age is the next version's commit time: a
// dataset deleted today after a month unchanged can be restored for a week, whatever its own age.
import type { VersionedStore } from "../lib/versioned-store.ts";
import type { Manifest } from "./manifest.ts";

export interface Retention {
  keepVersions: number;
  keepDays: number;
}

export const DAY_MS = 24 * 60 * 60 * 1000;

export interface VersionState {
  version: number;
  /** The manifest; null when the version's object could not be read (damaged, not missing). */
  manifest: Manifest | null;
  /** Its data is kept: it can be queried as "name@version" and restored. */
  retained: boolean;
}

/**
 * Walks the versions of `name` newest first and marks which are retained. Stops at the first
 * version past both limits (all older ones are past them too: versions are committed in order),
 * unless `all` asks for every version (the versions listing). Versions whose object is missing
 * (never written: a lost race) are left out.
 */
export async function versionStates(
  manifests: VersionedStore<Manifest>,
  name: string,
  retention: Retention,
  opts: { all?: boolean; now?: number } = {},
): Promise<VersionState[]> {
  const cutoff = (opts.now ?? Date.now()) - retention.keepDays * DAY_MS;
  const numbers = (await manifests.versions(name)).reverse();
  const out: VersionState[] = [];
  // When the version above the one being looked at was committed: the moment that one stopped being live.
  let supersededAt = Number.POSITIVE_INFINITY;
  for (const version of numbers) {
    const found = await manifests.lookup(name, version);
    if ("problem" in found && found.problem === "missing") continue;
    const manifest = "record" in found ? found.record : null;
    const retained = out.length < retention.keepVersions || supersededAt >= cutoff;
    if (!retained && !opts.all) break;
    out.push({ version, manifest, retained });
    // An unreadable version's commit time is unknown: keep counting from the last known one, so
    // the walk errs towards keeping.
    if (manifest) supersededAt = Date.parse(manifest.updated_at);
  }
  return out;
}
