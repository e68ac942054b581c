// Entry point of a conversion process (started through src/lib/worker-process.ts): one job as JSON,
// the last argument, one outcome as JSON on stdout.
import { type ConvertJob, convertWithDuckDB } from "./duckdb-convert.ts";

const job = JSON.parse(process.argv.at(-1) ?? "{}") as ConvertJob;
const outcome = await convertWithDuckDB(job);
process.stdout.write(`${JSON.stringify(outcome)}\n`);
