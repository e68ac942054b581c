// Entry point of a conversion process: one job as JSON in argv, one outcome as JSON on stdout.
import { type ConvertJob, convertWithDuckDB } from "./duckdb-convert.ts";

const job = JSON.parse(process.argv[2] ?? "{}") as ConvertJob;
const outcome = await convertWithDuckDB(job);
process.stdout.write(`${JSON.stringify(outcome)}\n`);
