// The pathway's request and result schemas: they validate every route and feed the OpenAPI
// document. Caps: content ≤ 32 KiB, data ≤ 64 KiB of JSON, ≤ 32 tags of ≤ 64 characters.
import * as v from "valibot";
import { queryInt } from "../http/body.ts";
import { named } from "../ops/openapi.ts";
import { AUDIT_OPS } from "./model.ts";

export const MAX_CONTENT_BYTES = 32 * 1024;
export const MAX_DATA_BYTES = 64 * 1024;
export const MAX_TAGS = 32;
export const MAX_K = 100;
export const MAX_LIST_LIMIT = 1000;

const UID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
export const Uid = v.pipe(v.string(), v.regex(UID, "1-128 of [A-Za-z0-9._:-], starting with a letter or digit"));
const ScopeValue = v.pipe(v.string(), v.minLength(1, "must not be empty"), v.maxLength(256));
const Kind = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_.-]{1,64}$/, "1-64 of [A-Za-z0-9_.-], e.g. fact, preference, pathway, outcome"));
const Content = v.pipe(
  v.string(),
  v.minLength(1, "must not be empty"),
  v.check((s) => Buffer.byteLength(s) <= MAX_CONTENT_BYTES, `at most ${MAX_CONTENT_BYTES} bytes`),
);
const Data = v.pipe(
  v.unknown(),
  v.check((x) => x !== undefined && (JSON.stringify(x)?.length ?? 0) <= MAX_DATA_BYTES, `any JSON value of at most ${MAX_DATA_BYTES} bytes`),
  v.metadata({ type: "object" }),
  v.description(`any JSON value, at most ${MAX_DATA_BYTES} bytes as JSON`),
);
const Tags = v.pipe(v.array(v.pipe(v.string(), v.minLength(1), v.maxLength(64))), v.maxLength(MAX_TAGS, `at most ${MAX_TAGS} tags`));
const Version = v.pipe(v.number(), v.integer(), v.minValue(1));
const AsOf = v.pipe(
  v.string(),
  v.isoTimestamp("an RFC 3339 timestamp, e.g. 2026-01-31T12:00:00Z"),
  v.description("RFC 3339: the answer is what memory held at that instant"),
);
const Bool = v.union([
  v.boolean(),
  v.pipe(
    v.picklist(["true", "false"]),
    v.transform((s) => s === "true"),
  ),
]);

const scopeEntries = {
  user_id: v.optional(ScopeValue),
  agent_id: v.optional(ScopeValue),
  run_id: v.optional(ScopeValue),
  namespace: v.optional(ScopeValue),
};

export const NewTrace = named(
  "PathwayNewTrace",
  v.strictObject({
    uid: v.optional(v.pipe(Uid, v.description("makes ADD idempotent: same uid and content → replayed; other content → 409"))),
    ...scopeEntries,
    kind: Kind,
    content: Content,
    data: v.optional(Data),
    tags: v.optional(Tags),
    dedupe: v.optional(
      v.strictObject({
        min_similarity: v.pipe(
          v.number(),
          v.minValue(0),
          v.maxValue(1),
          v.description("a live trace in the same scope at least this similar is the same memory"),
        ),
      }),
    ),
  }),
);
export type NewTraceInput = v.InferOutput<typeof NewTrace>;

const AddBatch = v.strictObject({ traces: v.pipe(v.array(NewTrace), v.minLength(1), v.maxLength(1000)) });
const AddEither = v.union([NewTrace, AddBatch]);
/**
 * One trace or {traces: [...]}. A union's error would be "Expected Object but received Object";
 * picking the branch by the `traces` key names the wrong field instead. The OpenAPI generator
 * calls the getter without input and gets the union, which is what the document should say.
 */
export const AddBody = v.lazy((input: unknown) =>
  input === undefined ? AddEither : typeof input === "object" && input !== null && "traces" in input ? AddBatch : NewTrace,
);

export const UpdateBody = v.strictObject({
  expected_version: Version,
  content: v.optional(Content),
  data: v.optional(Data),
  tags: v.optional(Tags),
});

export const ReviseBody = v.strictObject({
  new_uid: v.optional(v.pipe(Uid, v.description("the new trace's uid (default: generated)"))),
  expected_version: v.optional(Version),
  kind: v.optional(Kind),
  content: Content,
  data: v.optional(Data),
  tags: v.optional(Tags),
});

export const StateBody = v.strictObject({ expected_version: Version });

export const UidParam = v.object({ uid: Uid });
export const AsOfQuery = v.object({ as_of: v.optional(AsOf) });

export const ListQuery = v.object({
  ...scopeEntries,
  kind: v.optional(Kind),
  tags: v.optional(v.pipe(v.string(), v.description("comma-separated; a trace must have all of them"))),
  since: v.optional(v.pipe(AsOf, v.description("created at or after"))),
  until: v.optional(v.pipe(AsOf, v.description("created before"))),
  include_retired: v.optional(Bool),
  include_superseded: v.optional(Bool),
  as_of: v.optional(AsOf),
  cursor: v.optional(v.pipe(v.string(), v.regex(/^\d{1,16}$/, "a next_cursor from a previous page"))),
  limit: v.optional(queryInt(1, MAX_LIST_LIMIT)),
});

const FilterSchema = v.union([
  v.pipe(
    v.record(v.string(), v.unknown()),
    v.description('MongoDB-style over user_id, agent_id, run_id, namespace, kind, tags, data.*: {"data.city": "Joliet"}'),
  ),
  v.pipe(v.string(), v.description("the same language as text: kind = preference and data.city = Joliet")),
]);

export const SearchBody = v.strictObject({
  query: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_CONTENT_BYTES))),
  vector: v.optional(v.pipe(v.array(v.number()), v.minLength(1))),
  k: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(MAX_K)), 10),
  filter: v.optional(FilterSchema),
  ...scopeEntries,
  kind: v.optional(Kind),
  include_retired: v.optional(v.boolean()),
  include_superseded: v.optional(v.boolean()),
  as_of: v.optional(AsOf),
});

export const AuditQuery = v.object({
  uid: v.optional(Uid),
  since: v.optional(v.pipe(queryInt(0, Number.MAX_SAFE_INTEGER), v.description("receipts after this seq"))),
  limit: v.optional(queryInt(1, MAX_LIST_LIMIT)),
});

export const TraceSchema = named(
  "PathwayTrace",
  v.object({
    uid: v.string(),
    ...scopeEntries,
    kind: v.string(),
    content: v.string(),
    data: v.unknown(),
    tags: v.array(v.string()),
    version: v.number(),
    predecessor: v.nullable(v.string()),
    superseded_by: v.nullable(v.string()),
    created_at: v.string(),
    updated_at: v.string(),
    retired_at: v.nullable(v.string()),
    replay_count: v.number(),
    content_hash: v.string(),
  }),
);

const AddOne = v.object({ result: v.picklist(["created", "replayed"]), trace: TraceSchema });
export const AddResult = v.union([AddOne, v.object({ results: v.array(AddOne) })]);

export const ListResult = v.object({ traces: v.array(TraceSchema), next_cursor: v.optional(v.string()) });

export const HistoryResult = v.object({
  uid: v.string(),
  versions: v.pipe(v.array(TraceSchema), v.description("newest first: this trace's versions, then its predecessor's, and so on")),
  cycle: v.boolean(),
  truncated: v.pipe(v.boolean(), v.description("a predecessor is missing (forgotten, or lost storage)")),
});

export const SearchResult = v.object({
  hits: v.array(v.object({ score: v.number(), trace: TraceSchema })),
  pending_scanned: v.pipe(
    v.number(),
    v.description(
      "trace embeddings not yet in the vector graph that this search scanned exactly (after the filter); large right after many writes or a restart, 0 once indexing has caught up",
    ),
  ),
});

export const ForgetResult = v.object({ uid: v.string(), forgotten: v.literal(true), versions: v.number() });

export const ReceiptSchema = named(
  "PathwayReceipt",
  v.object({
    seq: v.number(),
    op: v.picklist(AUDIT_OPS),
    uid: v.string(),
    version: v.number(),
    actor: v.string(),
    at: v.string(),
    before_hash: v.nullable(v.string()),
    after_hash: v.nullable(v.string()),
    prev: v.string(),
    hash: v.string(),
  }),
);

export const AuditResult = v.object({ receipts: v.array(ReceiptSchema), next_since: v.optional(v.number()) });
export const VerifyResult = v.object({
  ok: v.boolean(),
  receipts: v.number(),
  first_broken_seq: v.optional(v.number()),
  mismatched_traces: v.pipe(v.number(), v.description("live traces whose stored state is not the one their last receipt names")),
});
