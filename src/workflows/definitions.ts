// Saved workflow definitions: one immutable version per save in the versioned store
// (`_workflows/definitions/<name>/<version>.json`, put-if-absent, so two writers never both win a
// version), deletes as tombstones. A save is checked like a run would be, so a saved workflow
// always passed validation when it was saved.
import * as v from "valibot";
import { Conflict, NotFound } from "../errors.ts";
import type { Logger } from "../log.ts";
import { VersionedStore } from "../lib/versioned-store.ts";
import { RESERVED } from "../storage/layout.ts";
import type { ObjectStore } from "../storage/store.ts";
import type { Definition } from "./schemas.ts";

const SavedRecord = v.object({
  name: v.string(),
  version: v.number(),
  deleted: v.optional(v.boolean()),
  updated_at: v.string(),
  actor: v.string(),
  inputs: v.optional(v.record(v.string(), v.string())),
  steps: v.array(v.record(v.string(), v.unknown())),
});
export type Saved = v.InferOutput<typeof SavedRecord>;

/** A definition as saved: a few KiB; 1 MiB holds a 200-step workflow with large literal inputs. */
const MAX_RECORD_BYTES = 1024 * 1024;

export class Definitions {
  private constructor(private readonly vs: VersionedStore<Saved>) {}

  static async open(store: ObjectStore, log: Logger): Promise<Definitions> {
    const vs = await VersionedStore.open({
      store,
      prefix: `${RESERVED.workflows}definitions/`,
      schema: SavedRecord,
      log,
      maxRecordBytes: MAX_RECORD_BYTES,
      nameOk: (name) => /^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(name),
      noun: "workflow",
      what: "workflow definition",
    });
    return new Definitions(vs);
  }

  list(): Saved[] {
    return this.vs.records();
  }

  get(name: string): Saved {
    const live = this.vs.latest(name);
    if (!live) throw new NotFound(`no workflow named "${name}"`, { workflow: name });
    return live;
  }

  async put(name: string, def: Definition, expected: number | undefined, actor: string): Promise<Saved> {
    const committed = await this.vs.commit(name, (live, next) => {
      const current = live?.version ?? 0;
      if (expected !== undefined && expected !== current) {
        throw new Conflict(
          expected === 0
            ? `workflow "${name}" exists (version ${current}); pass its version as expected_version to replace it`
            : `workflow "${name}" is at version ${current}, not ${expected}`,
          { workflow: name, current_version: current },
        );
      }
      const record: Saved = { name, version: next.version, updated_at: next.now, actor, steps: def.steps as Record<string, unknown>[] };
      if (def.inputs) record.inputs = def.inputs;
      return record;
    });
    return committed!.record;
  }

  async delete(name: string, actor: string): Promise<Saved> {
    const committed = await this.vs.tombstone(name, (live, next) => ({ ...live, version: next.version, updated_at: next.now, actor }));
    if (!committed) throw new NotFound(`no workflow named "${name}"`, { workflow: name });
    return committed.record;
  }

  health() {
    return this.vs.health();
  }
}

/** The definition a saved record holds. */
export function definitionOf(saved: Saved): Definition {
  const def = { name: saved.name, steps: saved.steps } as Definition;
  if (saved.inputs) def.inputs = saved.inputs as Definition["inputs"];
  return def;
}
