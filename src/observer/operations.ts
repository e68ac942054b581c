// The observer's operations, under /v1/observer: events (post, list, stats), reviews, the
// iteration witness (report, get, list runs) and the distillation export.
import { actorOf } from "../ops/identity.ts";
import { type AnyOperation, op } from "../ops/operation.ts";
import { type DistillDeps, distill } from "./distill.ts";
import type { EventStore } from "./event-store.ts";
import type { NewEvent } from "./model.ts";
import type { EventReader } from "./reads.ts";
import { type ReviewDeps, review } from "./review.ts";
import {
  DistillBody,
  DistillResult,
  EventsBody,
  IterationBody,
  IterationResult,
  ListQuery,
  ListResult,
  PostEventsResult,
  ReviewBody,
  ReviewResult,
  RunParam,
  RunResult,
  RunsQuery,
  RunsResult,
  StatsResult,
} from "./schemas.ts";
import type { Witness } from "./witness.ts";

const TAG = "observer";
const busy = {
  unavailable: "The log cannot keep up (Retry-After says when to retry) or could not be written; nothing of the request was acknowledged",
};

export interface OpsDeps {
  events: EventStore;
  reader: EventReader;
  witness: Witness;
  review: ReviewDeps;
  distill: DistillDeps;
  now: () => number;
  maxBodyBytes: number;
}

export function observerOperations(d: OpsDeps): AnyOperation[] {
  return [
    op({
      name: "observer.post_events",
      method: "post",
      path: "/v1/observer/events",
      tag: TAG,
      summary: "Record one event or {events: [...]} (at most 1,000); durable when answered",
      body: EventsBody,
      result: PostEventsResult,
      maxBodyBytes: d.maxBodyBytes,
      errors: { validation_failed: "A field is wrong (source/kind not a short identifier, payload over 64 KiB, over 1,000 events); details names it", ...busy },
      http: { status: 201 },
      handler: async (input) => {
        const batch: NewEvent[] = "events" in input ? input.events : [input];
        const stored = await d.events.append(batch);
        return { accepted: stored.length, ids: stored.map((e) => e.id) };
      },
    }),
    op({
      name: "observer.list_events",
      method: "get",
      path: "/v1/observer/events",
      tag: TAG,
      summary: "Events newest first, filtered by source, kind, run_id and time; next_cursor pages back",
      query: ListQuery,
      result: ListResult,
      handler: (input) => d.reader.list(input),
    }),
    op({
      name: "observer.stats",
      method: "get",
      path: "/v1/observer/stats",
      tag: TAG,
      summary: "Counts by source and kind, error counts, last seen per source, events per minute over the last minute and hour",
      result: StatsResult,
      handler: () => d.reader.stats(d.now()),
    }),
    op({
      name: "observer.review",
      method: "post",
      path: "/v1/observer/review",
      tag: TAG,
      summary: "Check a claim against truth rules and SQL evidence: accept only when every check passed; anything unchecked is cycle (degraded)",
      body: ReviewBody,
      result: ReviewResult,
      maxBodyBytes: d.maxBodyBytes,
      errors: { validation_failed: "The body is invalid on its face (wrong types, no rule and no evidence, over the caps); details names the field" },
      handler: (input) => review(d.review, input),
    }),
    op({
      name: "observer.iterate",
      method: "post",
      path: "/v1/observer/runs/{run_id}/iterations",
      tag: TAG,
      summary: "Report a run's iteration; answers the run's status and any loop or drift flag it raised",
      params: RunParam,
      body: IterationBody,
      result: IterationResult,
      errors: busy,
      handler: ({ run_id, ...it }) => d.witness.iterate(run_id, it),
    }),
    op({
      name: "observer.get_run",
      method: "get",
      path: "/v1/observer/runs/{run_id}",
      tag: TAG,
      summary: "A run: status, recent iterations, flags with their evidence",
      params: RunParam,
      result: RunResult,
      errors: { not_found: "No iteration was ever reported for this run" },
      handler: async ({ run_id }) => {
        await d.witness.sweep().catch(() => 0);
        return d.witness.get(run_id);
      },
    }),
    op({
      name: "observer.list_runs",
      method: "get",
      path: "/v1/observer/runs",
      tag: TAG,
      summary: "Runs, most recently active first, optionally by status",
      query: RunsQuery,
      result: RunsResult,
      handler: async ({ status, limit }) => {
        await d.witness.sweep().catch(() => 0);
        return d.witness.list(status, limit);
      },
    }),
    op({
      name: "observer.distill",
      method: "post",
      path: "/v1/observer/distill",
      tag: TAG,
      summary: "Export accepted reviews as a dataset, excluding every example that matches the holdout exactly or (near_duplicate) by embedding",
      body: DistillBody,
      result: DistillResult,
      errors: {
        bad_request: "The holdout cannot be read (a missing column), or the export would replace its own holdout",
        not_found: "The holdout dataset does not exist",
        conflict: "The dataset name is taken by something that cannot be replaced",
        upstream_error: "The embedding provider failed (near_duplicate)",
      },
      handler: (input, ctx) => distill(d.distill, input, actorOf(ctx.identity)),
    }),
  ];
}
