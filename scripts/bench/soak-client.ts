// The soak's HTTP client (scripts/bench/soak.ts): every request it sends is recorded with its kind,
// timing and outcome; and the staffing rows it appends, handed out once each.
import type { Recorder } from "./soak-record.ts";

export interface Answer {
  status: number;
  json: any;
  retryAfter?: string;
}

export interface CallOptions {
  raw?: RequestInit["body"];
  contentType?: string;
  timeoutMs?: number;
}

/** A statement answers by sql.timeout_ms (30 s) + 2 s; past this a request counts as hung. */
const CLIENT_TIMEOUT_MS = 60_000;

export class Client {
  private n = 0;

  constructor(
    readonly url: string,
    private readonly token: string,
    private readonly rec: Recorder,
  ) {}

  get auth(): string {
    return `Bearer ${this.token}`;
  }

  /** Sends one request and records it under `kind` (a connection error or hang is status 0). */
  async call(kind: string, method: string, path: string, body?: unknown, opts: CallOptions = {}): Promise<Answer> {
    const rid = `soak-${++this.n}`;
    const headers: Record<string, string> = { authorization: this.auth, "x-request-id": rid };
    let payload: RequestInit["body"] = opts.raw;
    if (body !== undefined) {
      headers["content-type"] = "application/json";
      payload = JSON.stringify(body);
    } else if (opts.contentType) headers["content-type"] = opts.contentType;
    const start = this.rec.now();
    try {
      const res = await fetch(`${this.url}${path}`, { method, headers, body: payload, signal: AbortSignal.timeout(opts.timeoutMs ?? CLIENT_TIMEOUT_MS) });
      const text = await res.text();
      let json: Answer["json"] = null;
      try {
        json = text ? JSON.parse(text) : null;
      } catch {
        json = { raw: text.slice(0, 200) };
      }
      const retryAfter = res.headers.get("retry-after") ?? undefined;
      const ok = res.status >= 200 && res.status < 300;
      this.rec.add({
        kind,
        start,
        end: this.rec.now(),
        status: res.status,
        code: ok ? undefined : (json?.error?.code ?? "no_envelope"),
        retryAfter,
        error: ok ? undefined : json?.error?.message,
        rid,
      });
      return { status: res.status, json, retryAfter };
    } catch (e) {
      const error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      this.rec.add({ kind, start, end: this.rec.now(), status: 0, code: "no_answer", error, rid });
      return { status: 0, json: null };
    }
  }
}

/** Splits RFC 4180 CSV into records (quoted fields may hold newlines; "" is a quote inside one). */
export function csvRecords(text: string): string[] {
  const out: string[] = [];
  let quoted = false;
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) quoted = !quoted;
    else if (c === 10 && !quoted) {
      out.push(text.slice(from, i));
      from = i + 1;
    }
  }
  if (from < text.length) out.push(text.slice(from));
  return out;
}

/** Staffing rows not yet ingested, handed out once each (an identical append is "unchanged"). */
export class RowPool {
  private next = 0;

  constructor(
    readonly header: string,
    private readonly rows: string[],
  ) {}

  get left(): number {
    return this.rows.length - this.next;
  }

  /** A CSV of the next `n` rows (fewer when the pool runs dry), with its row count. */
  take(n: number): { csv: string; rows: number } {
    const slice = this.rows.slice(this.next, this.next + n);
    this.next += slice.length;
    return { csv: `${this.header}\n${slice.join("\n")}\n`, rows: slice.length };
  }
}
