// A whole result streamed out of a SQL worker (POST /v1/sql/export): the same checked statement as
// every other (src/sql/prepare.ts), read from DuckDB a chunk at a time and encoded as CSV, NDJSON
// or typed Arrow record batches, or, for Parquet, written by DuckDB's COPY into this worker's own
// directory and read back in pieces. Pieces leave through a sink that waits when the server has
// not taken the earlier ones (the client reads slowly), so neither process holds the result.
import { rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { DuckDBConnection, DuckDBValue } from "@duckdb/node-api";
import { StatementType } from "@duckdb/node-api";
import { ArrowStreamEncoder, uniqueNames } from "./arrow-typed.ts";
import { csvLines, ndjsonLines } from "./csv.ts";
import type { ExportFormat } from "./formats.ts";
import { BadRequest, ResourceExhausted } from "../errors.ts";
import { quoteLiteral } from "../lib/sql-quote.ts";
import { bindParams, prepareChecked, type SqlParams } from "./prepare.ts";

export interface ExportRequest {
  sql: string;
  params: SqlParams;
  format: ExportFormat;
  /** Bytes the export may send; past it the export stops (src/sql/export-stream.ts ends the response abnormally). */
  maxBytes: number;
}

export interface ExportHead {
  columns: { name: string; type: string }[];
}

export interface ExportAnswer {
  rowCount: number;
  bytes: number;
  /** Stopped because the next piece would pass maxBytes. */
  cutByBytes: boolean;
  /** Stopped because the server asked (the client went away, or the deadline passed). */
  cancelled: boolean;
}

export interface ExportSink {
  head(head: ExportHead): void;
  /** Sends one piece; resolves when the server may take another. */
  piece(bytes: Uint8Array): Promise<void>;
  /** Whether the server asked the export to stop. */
  readonly cancelled: boolean;
}

/**
 * Encoded output is sent in pieces of about this size: big enough that the per-message cost (IPC,
 * a stream read, a socket write) is amortized, small enough that the few pieces in flight stay
 * far below the export's memory bound.
 */
export const PIECE_BYTES = 1024 * 1024;

export async function runExport(conn: DuckDBConnection, req: ExportRequest, sink: ExportSink, dir: string): Promise<ExportAnswer> {
  const prepared = await prepareChecked(conn, req.sql, req.params);
  if (req.format === "parquet") {
    // Prepared only to check it; COPY runs it with the same parameters. (Its column types may not be
    // known before parameters are bound, and the file carries its own schema anyway.)
    const explain = prepared.statementType === StatementType.EXPLAIN;
    prepared.destroySync();
    return parquetExport(conn, req, sink, dir, explain);
  }
  try {
    const result = await prepared.stream();
    const names = result.columnNames();
    const types = result.columnTypes();
    sink.head({ columns: names.map((name, i) => ({ name, type: types[i]!.toString() })) });
    const arrow = req.format === "arrow" ? new ArrowStreamEncoder(names, types) : null;
    const keys = uniqueNames(names);
    const out = new Pieces(sink, req.maxBytes);
    if (req.format === "csv") out.add(Buffer.from(csvLines(names, [], 0, true)));
    let rowCount = 0;
    for (;;) {
      if (sink.cancelled) return out.answer(rowCount, { cancelled: true });
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      const rows = chunk.rowCount;
      const columns: DuckDBValue[][] = chunk.getColumns();
      let bytes: Uint8Array;
      if (arrow) bytes = arrow.batch(columns, rows);
      else bytes = Buffer.from(req.format === "csv" ? csvLines(names, columns, rows, false) : ndjsonLines(keys, columns, rows));
      if (!(await out.add(bytes))) return out.answer(rowCount, { cutByBytes: true });
      rowCount += rows;
    }
    if (arrow && !(await out.add(arrow.end()))) return out.answer(rowCount, { cutByBytes: true });
    await out.flush();
    return out.answer(rowCount, {});
  } finally {
    prepared.destroySync();
  }
}

/** Coalesces encoded bytes into pieces of about PIECE_BYTES and counts them against the cap. */
class Pieces {
  private parts: Uint8Array[] = [];
  private pending = 0;
  private sent = 0;

  constructor(
    private readonly sink: ExportSink,
    private readonly maxBytes: number,
  ) {}

  /** Queues bytes (sending a piece when one is full); false, with nothing queued, when they would pass the cap. */
  async add(bytes: Uint8Array): Promise<boolean> {
    if (this.sent + this.pending + bytes.length > this.maxBytes) {
      await this.flush();
      return false;
    }
    this.parts.push(bytes);
    this.pending += bytes.length;
    if (this.pending >= PIECE_BYTES) await this.flush();
    return true;
  }

  async flush(): Promise<void> {
    if (this.pending === 0) return;
    const piece = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
    this.sent += piece.length;
    this.parts = [];
    this.pending = 0;
    await this.sink.piece(piece);
  }

  answer(rowCount: number, how: { cutByBytes?: boolean; cancelled?: boolean }): ExportAnswer {
    return { rowCount, bytes: this.sent, cutByBytes: how.cutByBytes ?? false, cancelled: how.cancelled ?? false };
  }
}

/**
 * Parquet needs its footer written last, so DuckDB writes the file (into this worker's directory,
 * which its sandbox allows) and it is sent from there, then deleted. The caller's statement was
 * checked alone; the COPY around it is checked again to be one COPY (a statement that prepared on
 * its own ends where it ends; the newline keeps a trailing `--` comment from taking the parenthesis).
 */
async function parquetExport(conn: DuckDBConnection, req: ExportRequest, sink: ExportSink, dir: string, explain: boolean): Promise<ExportAnswer> {
  if (explain) throw new BadRequest("EXPLAIN has no Parquet export; export it as csv, ndjson or arrow");
  const file = join(dir, `${crypto.randomUUID()}.parquet`);
  try {
    const copy = await conn.prepare(`COPY (${req.sql}\n) TO ${quoteLiteral(file)} (FORMAT parquet, COMPRESSION zstd)`);
    let rowCount: number;
    try {
      if (copy.statementType !== StatementType.COPY) throw new Error("the Parquet export did not prepare as one COPY");
      bindParams(copy, req.params);
      const reader = await copy.runAndReadAll();
      rowCount = Number(reader.getRows()[0]?.[0] ?? 0);
    } finally {
      copy.destroySync();
    }
    const size = (await stat(file)).size;
    if (size > req.maxBytes) {
      throw new ResourceExhausted(`the Parquet export is ${size} bytes, over sql.max_export_bytes (${req.maxBytes}); select fewer rows or columns`, {
        limit: "sql.max_export_bytes",
        limit_bytes: req.maxBytes,
        bytes: size,
      });
    }
    sink.head({ columns: [] });
    const handle = Bun.file(file);
    let sent = 0;
    while (sent < size) {
      if (sink.cancelled) return { rowCount, bytes: sent, cutByBytes: false, cancelled: true };
      const piece = new Uint8Array(await handle.slice(sent, Math.min(size, sent + PIECE_BYTES)).arrayBuffer());
      sent += piece.length;
      await sink.piece(piece);
    }
    return { rowCount, bytes: sent, cutByBytes: false, cancelled: false };
  } finally {
    await rm(file, { force: true });
  }
}
