// Recording outcomes against search results: every target must be an item of its corpus (a
// playbook about nothing could never apply), then all are stored or none, then the event bus hears
// of it. Nothing is written when a target is missing.
import { NotFound } from "../errors.ts";
import type { EventBus } from "../events.ts";
import type { VectorPort } from "../ports.ts";
import type { Corpora } from "./corpora.ts";
import { type PlaybookInput, type Playbooks, type PublicPlaybook, publicPlaybook } from "./playbooks.ts";

export interface RecordDeps {
  corpora: Corpora;
  vectors: VectorPort;
  playbooks: Playbooks;
  events: EventBus;
}

/** Throws NotFound for the first (corpus, id) that is not an item of its corpus. */
async function checkTargets(corpora: Corpora, vectors: VectorPort, items: readonly { corpus: string; id: string }[]): Promise<void> {
  for (const it of items) {
    const rec = corpora.require(it.corpus);
    const found = rec.dim !== null && vectors.hasIndex(rec.index) ? await vectors.get(rec.index, it.id) : undefined;
    if (!found) throw new NotFound(`corpus "${it.corpus}" has no item "${it.id}"`, { corpus: it.corpus, id: it.id });
  }
}

/** Stores all of `inputs` (durable when it returns) or none. */
export async function recordPlaybooks(deps: RecordDeps, inputs: readonly PlaybookInput[]): Promise<PublicPlaybook[]> {
  await checkTargets(deps.corpora, deps.vectors, inputs);
  const made = await deps.playbooks.add(inputs);
  const success = made.filter((p) => p.outcome === "success").length;
  await deps.events.publish("matrix.playbooks_recorded", {
    count: made.length,
    corpora: [...new Set(made.map((p) => p.corpus))].sort(),
    outcomes: { success, failure: made.length - success },
  });
  return made.map(publicPlaybook);
}
