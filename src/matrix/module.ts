// The matrix module: corpora, search, gate and playbooks, over the ports adapters.ts provides.
import type { ApiSpec } from "../http/openapi.ts";
import type { Logger } from "../log.ts";
import type { Module } from "../module.ts";
import type { ObjectStore } from "../storage/store.ts";
import type { MatrixConfig } from "./config.ts";
import { Corpora } from "./corpora.ts";
import { CorpusStore } from "./corpus-store.ts";
import { Playbooks } from "./playbooks.ts";
import type { EmbedPort, RowSource, VectorPort } from "./ports.ts";
import { matrixRoutes } from "./routes.ts";

export interface MatrixPorts {
  rows: RowSource;
  vectors: VectorPort;
  embed: EmbedPort;
}

export interface MatrixModule extends Module {
  readonly corpora: Corpora;
  readonly playbooks: Playbooks;
}

export async function openMatrix(config: MatrixConfig, store: ObjectStore, ports: MatrixPorts, log: Logger, api: ApiSpec, jsonLimit: number): Promise<MatrixModule> {
  const corpora = await Corpora.open({ ...ports, corpora: new CorpusStore(store), batch: config.build_batch, readPage: config.read_page, log }, log);
  const playbooks = await Playbooks.open(store, ports.embed, log);
  const deps = { corpora, playbooks, vectors: ports.vectors, embed: ports.embed, config, gate: config.gate };
  return {
    name: "matrix",
    corpora,
    playbooks,
    router: matrixRoutes(deps, api, jsonLimit),
    health: () => {
      const { building, ready, failed } = corpora.stateCounts();
      const detail = { corpora: building + ready + failed, building, playbooks: playbooks.size };
      return failed > 0 ? { status: "degraded", detail: { ...detail, failed } } : { status: "ok", detail };
    },
    close: () => corpora.close(),
  };
}
