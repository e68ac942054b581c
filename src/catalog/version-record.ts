// Building a version's manifest from a change plan: the fingerprint, the objects' schema notes, the
// row count, and how it came to be (op, actor, restored_from).
import { datasetId } from "./names.ts";
import type { Next } from "../lib/versioned-store.ts";
import type { CatalogChangePlan } from "./catalog.ts";
import type { Manifest } from "./manifest.ts";
import { fingerprint } from "./schema.ts";

/** A manifest's own fields only: what describes how a version came to be is not inherited. */
export function withoutHistory(m: Manifest): Manifest {
  const { op: _op, actor: _actor, restored_from: _from, ...rest } = m;
  return rest;
}

export function manifestOf(
  name: string,
  plan: Pick<CatalogChangePlan, "fields" | "objects" | "op" | "actor" | "restoredFrom">,
  live: Manifest | null,
  next: Next,
): Manifest {
  const fp = fingerprint(plan.fields);
  // An object kept from a version with another schema remembers that schema, so the view can cast
  // it; one whose schema is the new one needs no note.
  const carried = new Map(live?.objects.map((o) => [o.key, o.fingerprint ?? live.fingerprint]) ?? []);
  const objects = plan.objects.map(({ fingerprint: own, ...o }) => {
    const schema = own ?? carried.get(o.key) ?? fp;
    return schema === fp ? o : { ...o, fingerprint: schema };
  });
  return {
    format: 1,
    name,
    dataset_id: datasetId(name),
    version: next.version,
    created_at: live?.created_at ?? next.now,
    updated_at: next.now,
    deleted: false,
    fields: plan.fields,
    fingerprint: fp,
    objects,
    row_count: objects.reduce((n, o) => n + o.rows, 0),
    op: live || plan.op === "restore" ? plan.op : "register",
    ...(plan.actor ? { actor: plan.actor } : {}),
    ...(plan.restoredFrom ? { restored_from: plan.restoredFrom } : {}),
  };
}
