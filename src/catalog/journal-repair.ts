// Journal repair on open: a crash between a manifest commit and its journal append leaves a
// committed version the journal never recorded. The manifests are the truth; the missing entries
// are appended (op inferred from the previous version) so the journal tells the whole story.
import type { Logger } from "../log.ts";
import type { VersionedStore } from "../lib/versioned-store.ts";
import type { Journal } from "./journal.ts";
import type { Manifest } from "./manifest.ts";

/** How many of the newest journal entries are compared with the manifests on open. */
const JOURNAL_REPAIR_WINDOW = 100;

/**
 * Appends the entries of latest versions newer than the newest journal entry and absent from the
 * last entries; returns how many were written.
 */
export async function restoreMissingEntries(manifests: VersionedStore<Manifest>, journal: Journal, log: Logger): Promise<number> {
  const tail = await journal.read(Math.max(0, journal.lastSeq - JOURNAL_REPAIR_WINDOW), JOURNAL_REPAIR_WINDOW);
  const newest = tail.at(-1)?.at ?? "";
  const seen = new Set(tail.map((e) => `${e.name}/${e.version}`));
  const missing = manifests
    .records({ tombstones: true })
    .filter((m) => m.updated_at > newest && !seen.has(`${m.name}/${m.version}`))
    .sort((a, b) => a.updated_at.localeCompare(b.updated_at));
  for (const m of missing) {
    const op = m.deleted ? "delete" : (m.op ?? (await inferOp(manifests, m)));
    await journal.append({ op, name: m.name, dataset_id: m.dataset_id, version: m.version, fingerprint: m.fingerprint, row_count: m.row_count });
    log.warn("restored the journal entry of a committed catalog version", { dataset: m.name, version: m.version, op });
  }
  return missing.length;
}

/** What a version written before versions recorded their op most likely was. */
async function inferOp(manifests: VersionedStore<Manifest>, m: Manifest): Promise<"register" | "replace" | "append"> {
  if (m.version === 1) return "register";
  const prev = await manifests.get(m.name, m.version - 1).catch(() => null);
  if (!prev || prev.deleted) return prev ? "register" : "replace";
  const keys = m.objects.map((o) => o.key);
  return prev.objects.length > 0 && prev.objects.every((o, i) => keys[i] === o.key) && keys.length > prev.objects.length ? "append" : "replace";
}
