// Entry point, from source (`bun src/main.ts [command]`, `bun run start`) and as the single binary
// (scripts/build-binary.ts): `lakehouse [serve|check-config|version|mcp|help]`, and the helper
// processes the server starts from this same entry (src/lib/worker-process.ts). src/cli/run.ts
// dispatches; the server itself is src/cli/serve.ts.
import { runCli } from "./cli/run.ts";

const outcome = await runCli(Bun.argv.slice(2));
if (outcome !== "running") {
  // Let what was written reach a pipe before exiting.
  process.exitCode = outcome;
}
