// Drift of one scorer in a run: its baseline is its first drift_window scores; once drift_window
// more have come, the mean of the latest drift_window is compared with the baseline's. Drift is a
// move of more than drift_sigma baseline standard deviations, or, when drift_min_delta is above 0,
// more than that absolute delta. A scorer is flagged when it starts drifting, again only after it
// came back within the thresholds.
import type { ObserverConfig } from "./config.ts";

export interface ScorerWindow {
  baseline: number[];
  recent: number[];
  drifting: boolean;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]) => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length);
};
const round = (x: number) => Math.round(x * 1e6) / 1e6;
/** A constant baseline has sd 0: only a real move (past float noise) counts. */
const EPSILON = 1e-12;

/** Adds a score to the window; returns the drift flag's evidence when the scorer starts drifting. */
export function addScore(
  win: ScorerWindow,
  score: number,
  scorer: string,
  cfg: Pick<ObserverConfig, "drift_window" | "drift_sigma" | "drift_min_delta">,
): Record<string, unknown> | null {
  const n = cfg.drift_window;
  if (win.baseline.length < n) {
    win.baseline.push(score);
    return null;
  }
  win.recent.push(score);
  if (win.recent.length > n) win.recent.shift();
  if (win.recent.length < n) return null;
  const bm = mean(win.baseline);
  const bsd = sd(win.baseline);
  const rm = mean(win.recent);
  const delta = Math.abs(rm - bm);
  const drifting = delta > cfg.drift_sigma * bsd + EPSILON || (cfg.drift_min_delta > 0 && delta > cfg.drift_min_delta);
  const starts = drifting && !win.drifting;
  win.drifting = drifting;
  if (!starts) return null;
  return {
    scorer,
    baseline_mean: round(bm),
    baseline_sd: round(bsd),
    recent_mean: round(rm),
    delta: round(delta),
    threshold_sigma: cfg.drift_sigma,
    threshold_delta: cfg.drift_min_delta || null,
    window: n,
  };
}
