// The SELECT that reads an upload with a dataset's column types (issue 11, point 1): columns are
// matched by name, written in the dataset's order, a value that does not fit its column fails
// the statement naming the column and the value (never a silent rounding), columns the upload
// lacks are NULL (append under schema=evolve), new ones follow the dataset's, in upload order.
import type { Field } from "../catalog/schema.ts";
import { quoteIdent, quoteLiteral } from "../lib/sql-quote.ts";
import type { CsvOptions } from "./duckdb-convert.ts";
import { isDecimal, isInteger, readerCastsExactly, widensTo } from "./type-lattice.ts";
import type { UploadFormat } from "./upload.ts";

/** What DuckDB's error() carries for a value that does not fit: marker, column, row, value. */
export const CAST_MARK = "LH_CAST";
const SEP = "\u001f";

export interface UploadColumn {
  name: string;
  /** The type DuckDB reads it as on its own (always known for Parquet and NDJSON; CSV on demand). */
  type?: string;
}

export interface TypedRead {
  path: string;
  format: UploadFormat;
  csv: CsvOptions;
  /** The dataset's columns, in its order; `want` may widen some of their types. */
  target: Field[];
  /** The upload's columns, in its order. */
  upload: UploadColumn[];
  /** The type each dataset column present in the upload is read as. */
  want: Map<string, string>;
  /** Fill the dataset's columns the upload lacks with NULL (append), or leave them out (replace). */
  keepMissing: boolean;
}

/** The reader of an upload in its natural shape (types inferred from every row: sample_size=-1). */
export function naturalReader(path: string, format: UploadFormat, csv: CsvOptions, extra = ""): string {
  const file = quoteLiteral(path);
  if (format === "parquet") return `read_parquet(${file}${extra})`;
  if (format === "ndjson") return `read_json(${file}, format='newline_delimited', sample_size=-1${extra})`;
  const nulls = csv.nulls.map(quoteLiteral).join(", ");
  return (
    `read_csv(${file}, sample_size=-1, delim=${quoteLiteral(csv.delimiter)}, quote='"', escape='"', ` +
    `header=${csv.header}, strict_mode=true, comment='', skip=0, nullstr=[${nulls}], encoding='utf-8'${extra})`
  );
}

/** The upload's column names only, read cheaply (CSV: the header, every column as text). */
export function namesReader(path: string, format: UploadFormat, csv: CsvOptions): string {
  return format === "csv"
    ? naturalReader(path, format, csv, ", all_varchar=true").replace("sample_size=-1", "sample_size=1")
    : naturalReader(path, format, csv);
}

const struct = (entries: [string, string][]) => `{${entries.map(([k, t]) => `${quoteLiteral(k)}: ${quoteLiteral(t)}`).join(", ")}}`;

/** error() with what the caller needs to name the problem; `row` is SQL text (or ''). */
function failWith(column: string, row: string, value: string): string {
  return `error(${quoteLiteral(`${CAST_MARK}${SEP}${column}${SEP}`)} || ${row} || '${SEP}' || CAST(${value} AS VARCHAR))`;
}

/**
 * `ref` (of type `from`) as `to`, failing on a value that does not convert exactly: text must cast
 * (and an integer or DECIMAL column must not round it: "1.5" into BIGINT fails, "2.0" is 2); a
 * typed value must survive the round trip back (DOUBLE 1.5 into BIGINT fails, 2.0 is fine).
 */
export function exactCast(ref: string, from: string, to: string, column: string, row: string): string {
  if (from === to) return ref;
  if (widensTo(from, to)) return `CAST(${ref} AS ${to})`;
  const cast = `TRY_CAST(${ref} AS ${to})`;
  let ok: string;
  if (from === "VARCHAR" || from === "JSON") {
    ok = isInteger(to) || isDecimal(to) ? `${cast} IS NOT NULL AND TRY_CAST(${ref} AS DOUBLE) = CAST(${cast} AS DOUBLE)` : `${cast} IS NOT NULL`;
  } else ok = `${cast} IS NOT NULL AND TRY_CAST(${cast} AS ${from}) = ${ref}`;
  return `CASE WHEN ${ref} IS NULL THEN NULL WHEN ${ok} THEN ${cast} ELSE ${failWith(column, row, ref)} END`;
}

/** The SELECT list and reader: dataset columns first, in its order, then the upload's new ones. */
export function typedSelect(r: TypedRead): string {
  const present = new Map(r.upload.map((c) => [c.name, c]));
  const known = new Set(r.target.map((f) => f.name));
  const readAs = new Map<string, string>(); // the reader's type for a present dataset column
  const row = r.format === "parquet" ? "CAST(file_row_number + 1 AS VARCHAR)" : "''";
  const select: string[] = [];
  for (const f of r.target) {
    const want = r.want.get(f.name) ?? f.type;
    const col = quoteIdent(f.name);
    if (!present.has(f.name)) {
      if (r.keepMissing) select.push(`CAST(NULL AS ${want}) AS ${col}`);
      continue;
    }
    let from: string;
    if (r.format === "parquet") from = present.get(f.name)!.type!;
    else {
      from = readerCastsExactly(want, r.format) ? want : "VARCHAR";
      readAs.set(f.name, from);
    }
    select.push(`${exactCast(col, from, want, f.name, row)} AS ${col}`);
  }
  const added = r.upload.filter((c) => !known.has(c.name));
  for (const c of added) select.push(quoteIdent(c.name));

  let reader: string;
  if (r.format === "parquet") reader = naturalReader(r.path, r.format, r.csv, ", file_row_number=true");
  else if (r.format === "csv") {
    // New columns are left out of `types`: the sniffer infers them from every row.
    reader = readAs.size > 0 ? naturalReader(r.path, r.format, r.csv, `, types=${struct([...readAs])}`) : naturalReader(r.path, r.format, r.csv);
  } else {
    // read_json with `columns` drops every key not listed, so every key of the upload is listed.
    const columns: [string, string][] = r.upload.map((c) => [c.name, readAs.get(c.name) ?? c.type ?? "JSON"]);
    reader = naturalReader(r.path, r.format, r.csv, `, columns=${struct(columns)}`);
  }
  return `SELECT ${select.join(", ")} FROM ${reader}`;
}

export interface CastFailure {
  column: string;
  value: string;
  /** The physical line (CSV header = 1, NDJSON line) when DuckDB named it. */
  line?: number;
  /** The 1-based row of a Parquet upload. */
  row?: number;
  /** The type DuckDB named, when it did. */
  type?: string;
}

/**
 * A value that did not fit its column, from DuckDB's message: our own error() marker, the CSV
 * reader's conversion error, or the JSON reader's (which names the line and value, not the key:
 * `column` is then "").
 */
export function parseCastError(message: string): CastFailure | null {
  const mark = message.indexOf(`${CAST_MARK}${SEP}`);
  if (mark >= 0) {
    const [column = "", row = "", ...value] = message.slice(mark + CAST_MARK.length + 1).split(SEP);
    return { column, value: value.join(SEP), ...(row ? { row: Number(row) } : {}) };
  }
  const csv = /CSV Error on Line: (\d+)[\s\S]*?converting column "((?:[^"]|"")*)"\. Could not convert string "([\s\S]*?)" to '([^']+)'/.exec(message);
  if (csv) return { line: Number(csv[1]), column: csv[2]!, value: csv[3]!, type: csv[4]! };
  const json = /JSON transform error in file "[\s\S]*?", in line (\d+): ([^\n]*)/.exec(message);
  if (json) {
    // "Failed to cast value to numerical: "abc"" (the value as JSON) or "invalid date field format: "nope", ..."
    const rest = json[2]!;
    const text = /^Failed to cast value to \w+: (.*)$/.exec(rest)?.[1]?.trim() ?? /"((?:[^"\\]|\\.)*)"/.exec(rest)?.[1];
    if (text === undefined) return null;
    let value = text;
    if (text.startsWith('"')) {
      try {
        value = String(JSON.parse(text));
      } catch {
        // not JSON after all: keep DuckDB's text
      }
    }
    return { line: Number(json[1]), column: "", value };
  }
  return null;
}
