// `lakehouse serve` (the default command): load config, open the port (it answers "starting"
// while the modules open), then serve; shut down cleanly on SIGINT/SIGTERM. A module that fails to
// open exits 1 so a supervisor restarts the process; a config error exits 2.
import { ConfigError, loadConfig } from "../config/load.ts";
import { jsonLogger as log } from "../log.ts";
import { type Starting, start } from "../serve.ts";

const SIGNAL_NUMBER = { SIGINT: 2, SIGTERM: 15 } as const;

/**
 * One handler for both signals, run once. A signal during shutdown is logged and changes nothing:
 * `bun run start` forwards the terminal's Ctrl-C to the server, which then gets SIGINT twice in
 * the same millisecond (measured), so "a second signal exits at once" would skip the final
 * snapshots on every Ctrl-C. Whoever must stop it at once sends SIGKILL: acknowledged writes are
 * in the write-ahead logs and the next start replays them (docs/reliability.md).
 */
function handleSignals(starting: Starting): void {
  let first: { signal: string; at: number } | null = null;
  const onSignal = (signal: keyof typeof SIGNAL_NUMBER) => {
    if (first) {
      log.info("signal heard during shutdown; still stopping (SIGKILL stops at once; the logs keep acknowledged writes)", {
        signal,
        since_ms: Math.round(performance.now() - first.at),
      });
      return;
    }
    first = { signal, at: performance.now() };
    const t0 = first.at;
    log.info("shutting down", { signal });
    starting.shutdown().then(
      () => {
        log.info("stopped", { ms: Math.round(performance.now() - t0) });
        log.flush?.();
        process.exit(0);
      },
      (err) => {
        log.error("shutdown failed", { error: err instanceof Error ? err.message : String(err) });
        log.flush?.();
        process.exit(128 + SIGNAL_NUMBER[signal]);
      },
    );
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => onSignal(signal));
}

/** Serves until a signal stops the process (which exits from the signal handler). */
export async function runServe(opts: { config?: string; secrets?: string }): Promise<void> {
  const argv = [...(opts.config ? ["--config", opts.config] : []), ...(opts.secrets ? ["--secrets", opts.secrets] : [])];
  try {
    const { config, file } = loadConfig({ argv, env: process.env });
    const t0 = performance.now();
    const starting = start(config, log);
    log.info("lakehouse listening", { listen: starting.url, status: "starting" });
    handleSignals(starting);
    const running = await starting.ready;
    if (!starting.stopping) {
      log.info("lakehouse started", {
        listen: running.url,
        modules: running.lakehouse.modules.map((m) => m.name),
        data: running.lakehouse.storage.location,
        config: file ?? "defaults",
        auth: { token: config.auth.token !== "", allowed_ips: config.auth.allowed_ips.length, allowed_hosts: config.server.allowed_hosts.length },
        ms: Math.round(performance.now() - t0),
      });
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`config error: ${err.message}`);
      process.exit(2);
    }
    // A module that could not open (e.g. an unreachable store): the port is closed again; exit
    // non-zero so a supervisor restarts the process.
    log.error("start-up failed", { error: err instanceof Error ? err.message : String(err) });
    log.flush?.();
    console.error(`start-up failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
