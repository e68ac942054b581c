// The observer's request and result schemas: they validate every route and feed the OpenAPI
// document. Caps: 1,000 events per request, payloads and claims ≤ 64 KiB of JSON, 100 rules and 16
// SQL evidence items per review.
import * as v from "valibot";
import { queryInt } from "../http/body.ts";
import { named } from "../ops/openapi.ts";
import { IDENT, MAX_BATCH, MAX_PAYLOAD_BYTES, RUN_ID } from "./model.ts";

export const MAX_LIST_LIMIT = 1000;
export const MAX_RULES = 100;
export const MAX_EVIDENCE = 16;

const Ident = v.pipe(v.string(), v.regex(IDENT, "1-64 of [A-Za-z0-9_.:-], starting with a letter or digit"));
export const RunId = v.pipe(v.string(), v.regex(RUN_ID, "1-128 of [A-Za-z0-9_.:-], starting with a letter or digit"));
const Ts = v.pipe(v.string(), v.isoTimestamp("an RFC 3339 timestamp, e.g. 2026-01-31T12:00:00Z"));
const Level = v.picklist(["info", "warn", "error"]);
const jsonBytes = (x: unknown) => Buffer.byteLength(JSON.stringify(x) ?? "");
const Json = (what: string) =>
  v.pipe(
    v.unknown(),
    v.check((x) => x !== undefined && jsonBytes(x) <= MAX_PAYLOAD_BYTES, `${what}: any JSON value of at most ${MAX_PAYLOAD_BYTES} bytes`),
    v.metadata({ type: "object" }),
    v.description(`any JSON value, at most ${MAX_PAYLOAD_BYTES} bytes as JSON`),
  );
const AnyJson = v.pipe(v.unknown(), v.metadata({ type: "object" }), v.description("any JSON value"));

export const EventIn = named(
  "ObserverEventIn",
  v.strictObject({
    source: Ident,
    kind: Ident,
    run_id: v.optional(RunId),
    ts: v.optional(v.pipe(Ts, v.description("when it happened (default: when it was accepted)"))),
    level: v.optional(Level),
    payload: Json("payload"),
  }),
);
const EventBatch = v.strictObject({
  events: v.pipe(v.array(EventIn), v.minLength(1, "at least one event"), v.maxLength(MAX_BATCH, `at most ${MAX_BATCH} events per request`)),
});
const EventEither = v.union([EventIn, EventBatch]);
/** One event or {events: [...]}; the branch is picked by the `events` key so errors name the field (as pathway's AddBody). */
export const EventsBody = v.lazy((input: unknown) =>
  input === undefined ? EventEither : typeof input === "object" && input !== null && "events" in input ? EventBatch : EventIn,
);
export const PostEventsResult = v.object({ accepted: v.number(), ids: v.array(v.number()) });

export const EventSchema = named(
  "ObserverEvent",
  v.object({ id: v.number(), ts: v.string(), source: v.string(), kind: v.string(), run_id: v.nullable(v.string()), level: Level, payload: AnyJson }),
);

export const ListQuery = v.object({
  source: v.optional(Ident),
  kind: v.optional(Ident),
  run_id: v.optional(RunId),
  since: v.optional(v.pipe(Ts, v.description("at or after"))),
  until: v.optional(v.pipe(Ts, v.description("before"))),
  limit: v.optional(queryInt(1, MAX_LIST_LIMIT)),
  cursor: v.optional(v.pipe(v.string(), v.regex(/^\d{1,16}$/, "a next_cursor from a previous page"))),
});
export const ListResult = v.object({ events: v.array(EventSchema), next_cursor: v.nullable(v.string()) });

const tally = v.record(v.string(), v.number());
export const StatsResult = named(
  "ObserverStats",
  v.object({
    total: v.number(),
    by_source: tally,
    by_kind: tally,
    errors: v.object({ total: v.number(), by_source: tally }),
    last_seen: v.record(v.string(), v.string()),
    per_minute: v.object({ last_minute: v.number(), last_hour: v.pipe(v.number(), v.description("mean events per minute over the last hour")) }),
    hot_events: v.number(),
    archives: v.number(),
    pending: v.number(),
  }),
);

const RuleSchema = named(
  "ObserverRule",
  v.strictObject({
    type: v.pipe(
      v.string(),
      v.description(
        "field_equals, field_not_equals, field_empty, field_present, field_greater, field_less, regex, one_of, always (another type: verdict cycle)",
      ),
    ),
    path: v.optional(v.pipe(v.string(), v.maxLength(512), v.description('dot-path into the claim, e.g. "result.rows.0.count"; "" is the claim'))),
    value: v.optional(AnyJson),
    values: v.optional(v.array(AnyJson)),
    pattern: v.optional(v.string()),
    flags: v.optional(v.string()),
  }),
);
const Param = v.union([v.string(), v.number(), v.boolean(), v.null()]);
const EvidenceSchema = named(
  "ObserverEvidence",
  v.strictObject({
    sql: v.pipe(v.string(), v.minLength(1), v.maxLength(100_000)),
    params: v.optional(v.pipe(v.array(Param), v.maxLength(100))),
    expect: v.pipe(
      v.unknown(),
      v.check((x) => x !== undefined, "expect is required"),
      v.metadata({ type: "object" }),
      v.description("a scalar, {rows: N}, {values: [...]} or {min, max}; another shape: verdict cycle"),
    ),
    tolerance: v.optional(v.pipe(v.number(), v.minValue(0))),
  }),
);
export const ReviewBody = v.pipe(
  v.strictObject({
    claim: Json("claim"),
    rules: v.optional(v.pipe(v.array(RuleSchema), v.maxLength(MAX_RULES, `at most ${MAX_RULES} rules`))),
    evidence: v.optional(v.pipe(v.array(EvidenceSchema), v.maxLength(MAX_EVIDENCE, `at most ${MAX_EVIDENCE} evidence items`))),
    run_id: v.optional(RunId),
    source: v.optional(v.pipe(Ident, v.description("who made the claim (distillation can select by it)"))),
    score: v.optional(v.pipe(v.number(), v.finite(), v.description("the claim's score (distillation's min_score)"))),
  }),
  v.check((b) => (b.rules?.length ?? 0) + (b.evidence?.length ?? 0) > 0, "give at least one rule or one evidence item: nothing would be checked"),
);
const ReasonSchema = v.object({
  check: v.string(),
  path: v.optional(v.string()),
  expected: v.optional(AnyJson),
  actual: v.optional(AnyJson),
  outcome: v.picklist(["pass", "fail", "error"]),
  message: v.optional(v.string()),
});
export const ReviewResult = named(
  "ObserverReview",
  v.object({
    verdict: v.picklist(["accept", "reject", "cycle"]),
    degraded: v.boolean(),
    reasons: v.array(ReasonSchema),
    ms: v.number(),
    event_id: v.optional(v.number()),
  }),
);

export const RunParam = v.object({ run_id: RunId });
export const IterationBody = v.strictObject({
  iteration: v.pipe(v.number(), v.integer(), v.minValue(0)),
  state_hash: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(256))),
  score: v.optional(v.pipe(v.number(), v.finite())),
  scorer: v.optional(Ident),
  note: v.optional(v.pipe(v.string(), v.maxLength(4096))),
  done: v.optional(v.pipe(v.boolean(), v.description("the run finished: it can no longer stall"))),
});
const RunStatus = v.picklist(["open", "cycle", "stalled", "drift", "done"]);
const FlagSchema = v.object({
  kind: v.picklist(["loop", "stall", "drift"]),
  at: v.string(),
  iteration: v.nullable(v.number()),
  evidence: v.record(v.string(), v.unknown()),
  event_id: v.optional(v.number()),
});
export const IterationResult = v.object({ run_id: v.string(), status: RunStatus, flags: v.array(FlagSchema) });
export const RunResult = named(
  "ObserverRun",
  v.object({
    run_id: v.string(),
    status: RunStatus,
    created_at: v.string(),
    last_iteration_at: v.string(),
    iterations: v.number(),
    recent_iterations: v.array(
      v.object({
        iteration: v.number(),
        ts: v.string(),
        state_hash: v.optional(v.string()),
        score: v.optional(v.number()),
        scorer: v.optional(v.string()),
        note: v.optional(v.string()),
        event_id: v.number(),
      }),
    ),
    flags: v.array(FlagSchema),
  }),
);
export const RunsQuery = v.object({ status: v.optional(RunStatus), limit: v.optional(queryInt(1, MAX_LIST_LIMIT)) });
export const RunsResult = v.object({
  runs: v.array(v.object({ run_id: v.string(), status: RunStatus, iterations: v.number(), last_iteration_at: v.string(), flags: v.number() })),
});

export const DistillBody = v.strictObject({
  name: v.pipe(v.string(), v.minLength(1), v.maxLength(128), v.description("the dataset to write (created, or replaced when it exists)")),
  since: v.optional(Ts),
  until: v.optional(Ts),
  sources: v.optional(v.pipe(v.array(Ident), v.maxLength(100))),
  min_score: v.optional(v.pipe(v.number(), v.finite())),
  holdout: v.strictObject({ dataset: v.pipe(v.string(), v.minLength(1)), column: v.pipe(v.string(), v.minLength(1)) }),
  near_duplicate: v.optional(v.strictObject({ min_similarity: v.pipe(v.number(), v.minValue(0), v.maxValue(1)) })),
  text_path: v.optional(
    v.pipe(v.string(), v.maxLength(512), v.description("dot-path of the claim's text (default: the claim if a string, else its string leaves)")),
  ),
});
export const DistillResult = named(
  "ObserverDistill",
  v.object({
    name: v.string(),
    written: v.number(),
    excluded_exact: v.number(),
    excluded_near: v.number(),
    result: v.picklist(["created", "replaced", "unchanged", "appended", "empty"]),
    ms: v.number(),
  }),
);
