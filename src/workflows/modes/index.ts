// Every mode, by name. A mode is one file; adding one is that file and one line here.
import embed from "./embed.ts";
import llmGenerate from "./llm-generate.ts";
import matrixGate from "./matrix-gate.ts";
import matrixPlaybook from "./matrix-playbook.ts";
import matrixRelevance from "./matrix-relevance.ts";
import matrixSearch from "./matrix-search.ts";
import type { Mode } from "./mode.ts";
import observerEvent from "./observer-event.ts";
import observerReview from "./observer-review.ts";
import pathwayAdd from "./pathway-add.ts";
import pathwayAudit from "./pathway-audit.ts";
import pathwayRetire from "./pathway-retire.ts";
import pathwayRevise from "./pathway-revise.ts";
import pathwaySearch from "./pathway-search.ts";
import sql from "./sql.ts";
import transform from "./transform.ts";
import vectorSearch from "./vector-search.ts";

export type { Mode, ModeEnv, StepContext } from "./mode.ts";

export const MODES: readonly Mode[] = [
  sql,
  embed,
  vectorSearch,
  matrixSearch,
  matrixRelevance,
  matrixGate,
  matrixPlaybook,
  pathwayAdd,
  pathwaySearch,
  pathwayRevise,
  pathwayRetire,
  pathwayAudit,
  observerReview,
  observerEvent,
  transform,
  llmGenerate,
];

export function modeMap(extra: readonly Mode[] = []): Map<string, Mode> {
  return new Map([...MODES, ...extra].map((m) => [m.name, m]));
}
