// Recalled playbook items: brought into their corpus's list when they exist and pass the filter,
// scored by the corpus's query vector, or at 0 when the search has no query vector for that
// corpus's model (a lexical search embeds only the playbooks' model and rescores by BM25).
import { describe, expect, test } from "bun:test";
import type { Metadata } from "../../src/filter/compile.ts";
import type { CorpusRecord } from "../../src/matrix/corpus-store.ts";
import type { CorpusHit } from "../../src/matrix/fusion.ts";
import { recallPlaybookItems } from "../../src/matrix/playbook-recall.ts";
import type { Playbooks } from "../../src/matrix/playbooks.ts";
import { TEXT_KEY } from "../../src/matrix/stored.ts";
import type { VectorPort } from "../../src/ports.ts";

const items = new Map<string, { vector: number[]; metadata: Record<string, unknown> }>([
  ["w1", { vector: [1, 0], metadata: { state: "IL", [TEXT_KEY]: "welder in Joliet" } }],
  ["w2", { vector: [0, 1], metadata: { state: "TX", [TEXT_KEY]: "welder in Houston" } }],
]);
const vectors = {
  metadata: (_name: string, id: string) => items.get(id)?.metadata,
  get: async (_name: string, id: string) => {
    const it = items.get(id);
    return it && { id, ...it };
  },
} as unknown as VectorPort;
const playbooks = {
  successesSimilarTo: () => [
    { corpus: "workers", item_id: "w1" },
    { corpus: "workers", item_id: "gone" },
    { corpus: "workers", item_id: "w2" },
  ],
} as unknown as Playbooks;
const rec = { name: "workers", index: "matrix-workers", model: "pinned" } as unknown as CorpusRecord;

function recall(vectorFor: () => readonly number[] | undefined, accept?: (m: Metadata) => boolean) {
  const lists = new Map<string, CorpusHit[]>([["workers", [{ id: "w9", score: 0.5, metadata: {} }]]]);
  return recallPlaybookItems(lists, { query: [1, 0], model: "m", minSimilarity: 0, playbooks, vectors, records: [rec], vectorFor, accept, limit: 10 }).then(
    (added) => ({ added, list: lists.get("workers")!.map((h) => [h.id, h.score, h.text]) }),
  );
}

describe("playbook recall", () => {
  test("items that exist and pass the filter come in scored by the corpus's query vector, in score order", async () => {
    expect(await recall(() => [1, 0])).toEqual({
      added: 2,
      list: [
        ["w1", 1, "welder in Joliet"],
        ["w9", 0.5, undefined],
        ["w2", 0, "welder in Houston"],
      ],
    });
    expect(
      await recall(
        () => [1, 0],
        (m) => m?.state === "TX",
      ),
    ).toEqual({
      added: 1,
      list: [
        ["w9", 0.5, undefined],
        ["w2", 0, "welder in Houston"],
      ],
    });
  });

  test("without a query vector for the corpus's model they still come in, at score 0, instead of failing the search", async () => {
    expect(await recall(() => undefined)).toEqual({
      added: 2,
      list: [
        ["w9", 0.5, undefined],
        ["w1", 0, "welder in Joliet"],
        ["w2", 0, "welder in Houston"],
      ],
    });
  });
});
