// /v1/matrix: corpora built from datasets, multi-corpus search, the downgrade gate, playbooks.
import * as v from "valibot";
import { NotFound } from "../errors.ts";
import type { ApiSpec } from "../http/openapi.ts";
import { ModuleRouter } from "../http/router.ts";
import type { GateConfig } from "./config.ts";
import type { Corpora } from "./corpora.ts";
import { decideGate, gateSignals } from "./gate.ts";
import type { Playbook, Playbooks } from "./playbooks.ts";
import { matrixSearch, type SearchDeps } from "./search.ts";

const MAX_K = 1000;
const name = v.pipe(v.string(), v.minLength(1), v.maxLength(63));
const column = v.pipe(v.string(), v.minLength(1), v.maxLength(255));
const nonEmpty = v.pipe(v.string(), v.minLength(1), v.maxLength(10_000));

const CorpusBody = v.strictObject({
  name: v.pipe(name, v.description("1-63 of [A-Za-z0-9_-], starting with a letter")),
  dataset: name,
  id_column: column,
  text: v.optional(v.pipe(v.array(column), v.minLength(1), v.description("columns joined with newlines; or give template"))),
  template: v.optional(v.pipe(nonEmpty, v.description('e.g. "{primary_skill} in {city}, {state}: {resume_text}"'))),
  metadata: v.optional(v.pipe(v.array(column), v.description("columns stored with each row, for filters and results"))),
  model: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(200))),
});

const CorpusStatus = v.object({
  name: v.string(),
  dataset: v.string(),
  state: v.picklist(["building", "ready", "failed"]),
  rows_done: v.number(),
  rows_total: v.number(),
  rows_per_s: v.number(),
  eta_s: v.nullable(v.number()),
  skipped_empty: v.number(),
  error: v.optional(v.string()),
  count: v.number(),
  pending: v.number(),
});

const SearchBody = v.strictObject({
  query: v.optional(v.pipe(v.string(), v.maxLength(10_000))),
  vector: v.optional(v.array(v.number())),
  corpora: v.optional(v.pipe(v.array(name), v.minLength(1), v.description("default: every corpus"))),
  k: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(MAX_K)), 10),
  per_corpus_k: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(MAX_K))),
  filter: v.optional(
    v.pipe(v.unknown(), v.description('shared filter language: {"state": "IL", "available": true, "hourly_rate": {"$lte": 22}}, or as text: state = IL and available = true and hourly_rate <= 22')),
  ),
  weights: v.optional(v.record(v.string(), v.pipe(v.number(), v.minValue(0), v.maxValue(1000)))),
  dedupe_key: v.optional(column),
  fusion: v.optional(v.picklist(["calibrated", "rrf"])),
  relevance: v.optional(
    v.strictObject({
      min_score: v.optional(v.number()),
      required_terms: v.optional(v.array(v.pipe(v.string(), v.minLength(1), v.maxLength(200)))),
      gap: v.optional(v.pipe(v.number(), v.minValue(0))),
    }),
  ),
  playbooks: v.optional(v.boolean()),
  explain: v.optional(v.boolean()),
});

const GateBody = v.strictObject({
  results: v.array(v.object({ corpus: v.string(), score: v.number() })),
  corpora: v.optional(v.array(v.string())),
});

const PlaybookBody = v.strictObject({
  query: v.pipe(v.string(), v.trim(), v.minLength(1, "must not be empty"), v.maxLength(10_000)),
  corpus: name,
  id: v.pipe(v.string(), v.minLength(1), v.maxLength(256)),
  outcome: v.picklist(["success", "failure"]),
  rating: v.optional(v.pipe(v.number(), v.minValue(1), v.maxValue(5))),
  note: v.optional(v.pipe(v.string(), v.maxLength(10_000))),
});
const BulkBody = v.strictObject({ playbooks: v.pipe(v.array(PlaybookBody), v.minLength(1), v.maxLength(10_000)) });

export function matrixRoutes(deps: SearchDeps & { corpora: Corpora; playbooks: Playbooks; gate: GateConfig }, api: ApiSpec, jsonLimit: number): ModuleRouter {
  const r = new ModuleRouter(api, "/v1/matrix", "matrix", jsonLimit);
  const corpusName = { name: "Corpus name" };

  r.route(
    {
      method: "post",
      path: "/corpora",
      summary: "Build a corpus from a dataset (or rebuild it incrementally); follow progress with GET",
      body: CorpusBody,
      responses: {
        201: { description: "Created; building", schema: CorpusStatus },
        202: { description: "Rebuilding", schema: CorpusStatus },
        400: { description: "Bad name, columns or template" },
        404: { description: "Dataset not found" },
        409: { description: "Being built, or exists over another dataset, id column or model" },
      },
    },
    async (c, { body }) => {
      const { created, status } = await deps.corpora.build(body);
      return c.json(status, created ? 201 : 202);
    },
  );
  r.route({ method: "get", path: "/corpora", summary: "List corpora", responses: { 200: { description: "Corpora", schema: v.object({ corpora: v.array(CorpusStatus) }) } } }, (c) =>
    c.json({ corpora: deps.corpora.list() }),
  );
  r.route(
    { method: "get", path: "/corpora/{name}", summary: "A corpus and its build progress", pathParams: corpusName, responses: { 200: { description: "Status", schema: CorpusStatus }, 404: { description: "Not found" } } },
    (c) => c.json(deps.corpora.status(c.req.param("name")!)),
  );
  r.route(
    { method: "delete", path: "/corpora/{name}", summary: "Delete a corpus and its index (a running build is stopped)", pathParams: corpusName, responses: { 200: { description: "Deleted", schema: CorpusStatus }, 404: { description: "Not found" } } },
    async (c) => c.json(await deps.corpora.delete(c.req.param("name")!)),
  );
  r.route(
    {
      method: "post",
      path: "/search",
      summary: "Search several corpora with a filter, fuse, boost from playbooks, cut for relevance, decide the gate",
      body: SearchBody,
      responses: { 200: { description: "Results, gate decision, relevance drops, timings" }, 400: { description: "Bad input; a bad filter names its node" }, 404: { description: "Unknown corpus" } },
    },
    async (c, { body }) => c.json(await matrixSearch(deps, body)),
  );
  r.route(
    {
      method: "post",
      path: "/gate",
      summary: "The downgrade gate on given results (scores in calibrated units, as search returns them)",
      body: GateBody,
      responses: { 200: { description: "{tier, reason, signals}" } },
    },
    (c, { body }) => c.json(decideGate(gateSignals(body.results, body.corpora), deps.gate)),
  );
  r.route(
    {
      method: "post",
      path: "/playbooks",
      summary: "Record an outcome for a result of a query (durable before 201)",
      body: PlaybookBody,
      responses: { 201: { description: "Stored" }, 404: { description: "Unknown corpus or item" } },
    },
    async (c, { body }) => {
      await checkTargets(deps, [body]);
      const [p] = await deps.playbooks.add([body]);
      return c.json(publicPlaybook(p!), 201);
    },
  );
  r.route(
    { method: "post", path: "/playbooks/bulk", summary: "Record many outcomes: all or none", body: BulkBody, responses: { 201: { description: "Stored" }, 404: { description: "Unknown corpus or item" } } },
    async (c, { body }) => {
      await checkTargets(deps, body.playbooks);
      const made = await deps.playbooks.add(body.playbooks);
      return c.json({ playbooks: made.map(publicPlaybook) }, 201);
    },
  );
  r.route({ method: "get", path: "/playbooks", summary: "List playbooks, oldest first", responses: { 200: { description: "Playbooks" } } }, (c) =>
    c.json({ playbooks: deps.playbooks.list().map(publicPlaybook) }),
  );
  r.route(
    { method: "delete", path: "/playbooks/{id}", summary: "Delete a playbook", pathParams: { id: "Playbook id" }, responses: { 200: { description: "Deleted" }, 404: { description: "Not found" } } },
    async (c) => c.json(publicPlaybook(await deps.playbooks.delete(c.req.param("id")!))),
  );
  return r;
}

async function checkTargets(deps: SearchDeps, items: readonly { corpus: string; id: string }[]): Promise<void> {
  for (const it of items) {
    const rec = deps.corpora.require(it.corpus);
    const found = rec.dim !== null && deps.vectors.hasIndex(rec.index) ? await deps.vectors.get(rec.index, it.id) : undefined;
    if (!found) throw new NotFound(`corpus "${it.corpus}" has no item "${it.id}"`, { corpus: it.corpus, id: it.id });
  }
}

/** A playbook without its query embedding, which is internal and large. */
function publicPlaybook({ vector: _vector, ...rest }: Playbook) {
  return rest;
}
