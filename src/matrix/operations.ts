// The matrix's operations: corpora built from datasets, multi-corpus search, the downgrade gate,
// playbooks. Handlers stay thin; the work is in corpora.ts, search.ts, gate.ts and
// record-playbooks.ts.
import * as v from "valibot";
import type { EventBus } from "../events.ts";
import { type AnyOperation, op } from "../ops/operation.ts";
import type { CorpusStatus } from "./corpora.ts";
import { decideGate, gateSignals } from "./gate.ts";
import { publicPlaybook } from "./playbooks.ts";
import { recordPlaybooks } from "./record-playbooks.ts";
import {
  BulkBody,
  CorpusBody,
  CorpusStatusSchema,
  GateBody,
  GateDecisionSchema,
  PlaybookBody,
  PlaybookListSchema,
  PlaybookResultSchema,
  SearchBody,
  SearchResultSchema,
} from "./schemas.ts";
import { matrixSearch, type SearchDeps } from "./search.ts";

export interface MatrixServices extends SearchDeps {
  events: EventBus;
}

const CorpusParam = v.object({ name: v.pipe(v.string(), v.description("Corpus name")) });
const PlaybookParam = v.object({ id: v.pipe(v.string(), v.description("Playbook id")) });
const TAG = "matrix";
const corpusUnavailable = {
  unavailable: "The corpus could not be loaded at start-up (its record or its vector index is damaged; /health names it): delete it and build it again",
};
const corpusNotFound = { not_found: "No such corpus", ...corpusUnavailable };
const embedFailed = { upstream_error: "The embedding provider failed" };

export function matrixOperations(deps: MatrixServices): AnyOperation[] {
  // Which build results created their corpus (201) rather than rebuilt it (202): the status is
  // the result, and whether it was new is not part of it.
  const created = new WeakSet<CorpusStatus>();
  return [
    op({
      name: "matrix.build_corpus",
      method: "post",
      path: "/v1/matrix/corpora",
      tag: TAG,
      summary: "Build a corpus from a dataset (or rebuild it incrementally); follow progress with GET",
      body: CorpusBody,
      result: CorpusStatusSchema,
      errors: {
        bad_request: "The embedding provider does not serve the model",
        validation_failed: "Bad name, columns or template, or another input failed validation; details names the field",
        not_found: "Dataset not found",
        conflict: "Being built, or exists over another dataset, id column or model",
        ...corpusUnavailable,
        ...embedFailed,
      },
      http: {
        status: (status: CorpusStatus) => (created.has(status) ? 201 : 202),
        statuses: { 201: "Created; building", 202: "Rebuilding" },
      },
      handler: async (input) => {
        const out = await deps.corpora.build(input);
        if (out.created) created.add(out.status);
        return out.status;
      },
    }),
    op({
      name: "matrix.list_corpora",
      method: "get",
      path: "/v1/matrix/corpora",
      tag: TAG,
      summary: "List corpora",
      result: v.object({ corpora: v.array(CorpusStatusSchema) }),
      handler: () => ({ corpora: deps.corpora.list() }),
    }),
    op({
      name: "matrix.get_corpus",
      method: "get",
      path: "/v1/matrix/corpora/{name}",
      tag: TAG,
      summary: "A corpus and its build progress",
      params: CorpusParam,
      result: CorpusStatusSchema,
      errors: corpusNotFound,
      handler: ({ name }) => deps.corpora.status(name),
    }),
    op({
      name: "matrix.delete_corpus",
      method: "delete",
      path: "/v1/matrix/corpora/{name}",
      tag: TAG,
      summary: "Delete a corpus and its index (a running build is stopped)",
      params: CorpusParam,
      result: CorpusStatusSchema,
      errors: corpusNotFound,
      handler: ({ name }) => deps.corpora.delete(name),
    }),
    op({
      name: "matrix.search",
      method: "post",
      path: "/v1/matrix/search",
      tag: TAG,
      summary: "Search several corpora with a filter, fuse, boost from playbooks, cut for relevance, decide the gate",
      body: SearchBody,
      result: SearchResultSchema,
      errors: {
        validation_failed:
          "Not exactly one of query or vector, weights for a corpus not searched, a bad filter, or another input failed validation; details names the field (a filter's bad node)",
        ...corpusNotFound,
        ...embedFailed,
      },
      handler: (input) => matrixSearch(deps, input),
    }),
    op({
      name: "matrix.gate",
      method: "post",
      path: "/v1/matrix/gate",
      tag: TAG,
      summary: "The downgrade gate on given results (scores in calibrated units, as search returns them)",
      body: GateBody,
      result: GateDecisionSchema,
      handler: ({ results, corpora }) => decideGate(gateSignals(results, corpora), deps.config.gate),
    }),
    op({
      name: "matrix.record_playbook",
      method: "post",
      path: "/v1/matrix/playbooks",
      tag: TAG,
      summary: "Record an outcome for a result of a query (durable before 201)",
      body: PlaybookBody,
      result: PlaybookResultSchema,
      errors: { not_found: "Unknown corpus or item", ...corpusUnavailable, ...embedFailed },
      http: { status: 201, statuses: { 201: "Stored" } },
      handler: async (input) => (await recordPlaybooks(deps, [input]))[0]!,
    }),
    op({
      name: "matrix.record_playbooks",
      method: "post",
      path: "/v1/matrix/playbooks/bulk",
      tag: TAG,
      summary: "Record many outcomes: all or none",
      body: BulkBody,
      result: PlaybookListSchema,
      errors: { not_found: "Unknown corpus or item", ...corpusUnavailable, ...embedFailed },
      http: { status: 201, statuses: { 201: "Stored" } },
      handler: async ({ playbooks }) => ({ playbooks: await recordPlaybooks(deps, playbooks) }),
    }),
    op({
      name: "matrix.list_playbooks",
      method: "get",
      path: "/v1/matrix/playbooks",
      tag: TAG,
      summary: "List playbooks, oldest first",
      result: PlaybookListSchema,
      handler: () => ({ playbooks: deps.playbooks.list().map(publicPlaybook) }),
    }),
    op({
      name: "matrix.delete_playbook",
      method: "delete",
      path: "/v1/matrix/playbooks/{id}",
      tag: TAG,
      summary: "Delete a playbook",
      params: PlaybookParam,
      result: PlaybookResultSchema,
      errors: { not_found: "No such playbook" },
      handler: async ({ id }) => publicPlaybook(await deps.playbooks.delete(id)),
    }),
  ];
}
