// The sandboxed DuckDB instance of a SQL worker. Settings that fail as create options are applied
// with SET, in this order: directories while external access is still on, external access off,
// limits, then the lock, so callers cannot undo any of it.
import { DuckDBInstance } from "@duckdb/node-api";
import { quoteLiteral } from "../lib/sql-quote.ts";

export interface SandboxOptions {
  /** Directories DuckDB may read; nothing else on this machine is reachable from SQL. */
  allowedDirs: string[];
  threads: number;
  memoryLimit: string;
}

export async function openSandbox(opts: SandboxOptions): Promise<DuckDBInstance> {
  const instance = await DuckDBInstance.create(":memory:", { autoinstall_known_extensions: "false", autoload_known_extensions: "false" });
  const c = await instance.connect();
  try {
    await c.run(`SET allowed_directories=[${opts.allowedDirs.map(quoteLiteral).join(", ")}]`);
    // DuckDB lets SQL read its temp directory (`<cwd>/.tmp` by default) even with external access
    // off; nothing spills (max_temp_directory_size below), so there is none.
    await c.run("SET temp_directory=''");
    await c.run("SET enable_external_access=false");
    await c.run(`SET threads=${opts.threads}`);
    await c.run(`SET memory_limit=${quoteLiteral(opts.memoryLimit)}`);
    await c.run("SET max_temp_directory_size='0B'");
    // Dataset files are immutable (content-addressed keys), so their footers can be cached.
    await c.run("SET parquet_metadata_cache=true");
    await c.run("SET lock_configuration=true");
  } finally {
    c.closeSync();
  }
  return instance;
}
