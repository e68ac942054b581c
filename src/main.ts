// Entry point: load config, serve, shut down cleanly on SIGINT/SIGTERM.
import { ConfigError, loadConfig } from "./config/load.ts";
import { jsonLogger as log } from "./log.ts";
import { serve } from "./serve.ts";

try {
  const { config, file } = loadConfig({ argv: Bun.argv.slice(2), env: process.env });
  const running = await serve(config, log);
  log.info("lakehouse started", {
    listen: running.url,
    modules: running.lakehouse.modules.map((m) => m.name),
    data: running.lakehouse.storage.location,
    config: file ?? "defaults",
    auth: { token: config.auth.token !== "", allowed_ips: config.auth.allowed_ips.length, allowed_hosts: config.server.allowed_hosts.length },
  });
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, async () => {
      log.info("shutting down", { signal });
      await running.shutdown();
      log.info("stopped");
      log.flush?.();
      process.exit(0);
    });
  }
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(`config error: ${err.message}`);
    process.exit(2);
  }
  console.error(`start-up failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
