// The matrix module: corpora, search, gate and playbooks, over the rows, vector and embed ports
// that app.ts hands it; its operations go into the registry.
import type { Module, ModuleContext } from "../module.ts";
import type { EmbedPort, RowSource, VectorPort } from "../ports.ts";
import type { MatrixConfig } from "./config.ts";
import { Corpora } from "./corpora.ts";
import { lexicalTextOf } from "./stored.ts";
import { CorpusStore, indexNameFor } from "./corpus-store.ts";
import { LexicalIndexes } from "./lexical/indexes.ts";
import { matrixOperations } from "./operations.ts";
import { Playbooks } from "./playbooks.ts";

export type { MatrixConfig } from "./config.ts";
export type { CorpusStatus } from "./corpora.ts";
export type { PublicPlaybook } from "./playbooks.ts";
export type { SearchInput, SearchOutput } from "./search.ts";

export interface MatrixPorts {
  rows: RowSource;
  vectors: VectorPort;
  embed: EmbedPort;
}

export interface MatrixModule extends Module {
  readonly corpora: Corpora;
  readonly playbooks: Playbooks;
}

export async function open(ctx: ModuleContext<MatrixConfig>, ports: MatrixPorts): Promise<MatrixModule> {
  const { config, store, log, events } = ctx;
  const corpusStore = new CorpusStore(store);
  // A lexical index with nothing stored is rebuilt from the texts the vector index keeps with each item.
  const lexical = new LexicalIndexes(
    store,
    {
      ids: async (corpus) => [...(await corpusStore.loadHashes(corpus)).keys()],
      text: (corpus, id) => (ports.vectors.hasIndex(indexNameFor(corpus)) ? lexicalTextOf(ports.vectors.metadata(indexNameFor(corpus), id)) : undefined),
    },
    log,
  );
  const corpora = await Corpora.open(
    { ...ports, corpora: corpusStore, lexical, batch: config.build_batch, readPage: config.read_page, checkpointMs: config.checkpoint_ms, log },
    log,
    events,
  );
  const playbooks = await Playbooks.open(store, ports.embed, log);
  ctx.ops.register(...matrixOperations({ corpora, playbooks, lexical, vectors: ports.vectors, embed: ports.embed, config, events }));
  return {
    name: "matrix",
    corpora,
    playbooks,
    health: () => {
      const { building, ready, failed } = corpora.stateCounts();
      const detail: Record<string, unknown> = { corpora: building + ready + failed, building, playbooks: playbooks.size };
      if (failed > 0) detail.failed = failed;
      // What start-up could not load: corpora by name (each answers 503), objects by key.
      const { unavailable, skipped } = corpora.problems();
      const skippedPlaybooks = playbooks.skippedObjects();
      if (Object.keys(unavailable).length > 0) detail.unavailable_corpora = unavailable;
      if (skipped.count > 0) detail.skipped_corpus_records = skipped;
      if (skippedPlaybooks.count > 0) detail.skipped_playbooks = skippedPlaybooks;
      const lexicalFailed = lexical.failures();
      if (Object.keys(lexicalFailed).length > 0) detail.lexical_unavailable = Object.keys(lexicalFailed).sort();
      const degraded =
        failed > 0 || Object.keys(unavailable).length > 0 || skipped.count > 0 || skippedPlaybooks.count > 0 || Object.keys(lexicalFailed).length > 0;
      return { status: degraded ? "degraded" : "ok", detail };
    },
    close: async () => {
      await corpora.close();
      await lexical.close();
    },
  };
}
