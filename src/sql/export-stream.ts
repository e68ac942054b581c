// The server's side of an export (POST /v1/sql/export): the pieces a SQL worker sends become the
// response body, and each piece is acknowledged only when the client has taken it, so the worker
// never runs more than a couple of pieces ahead of the client (src/sql/worker-main.ts): memory
// stays bounded however large the result and however slow the reader.
//
// The status and headers leave before the result is known to be whole, so an export that cannot
// finish (sql.max_export_bytes passed, the export timeout, the worker killed at a memory cap or
// dying) ends the body abnormally: the connection is cut without the end of the chunked body, which
// every HTTP client reports as an error (a truncated file never looks complete), and it is logged.
// An error before the first piece (a refused statement, a bad parameter) is an ordinary error answer.
import type { ExportHead } from "./export.ts";
import type { ExportListener } from "./worker-client.ts";

export interface ExportStreamHooks {
  /** A piece was taken by the client: the worker may send another. */
  ack(): void;
  /** The client went away: stop the statement. */
  cancel(): void;
}

export class ExportStream {
  private readonly queue: Uint8Array[] = [];
  /** Set when the worker reported the end: null error for a whole result, else why it could not finish. */
  private ended: { error: Error | null } | null = null;
  private waiting: (() => void) | null = null;
  private headResolve!: (head: ExportHead | null) => void;
  /** Resolves with the head, or null when the export ended (or failed) before it. */
  readonly head: Promise<ExportHead | null> = new Promise((resolve) => (this.headResolve = resolve));
  readonly body: ReadableStream<Uint8Array>;
  bytesSent = 0;

  constructor(private readonly hooks: ExportStreamHooks) {
    this.body = new ReadableStream<Uint8Array>(
      {
        pull: (controller) => this.pull(controller),
        cancel: () => this.hooks.cancel(),
      },
      // Nothing is read ahead of the client: a piece is pulled (and acknowledged) when it asks.
      { highWaterMark: 0 },
    );
  }

  readonly listener: ExportListener = {
    head: (head) => this.headResolve(head),
    piece: (bytes) => {
      this.queue.push(bytes);
      this.wake();
    },
  };

  /** The export's end: `error` says why it could not deliver the whole result (the body is then aborted). */
  finish(error: Error | null): void {
    this.headResolve(null);
    this.ended = { error };
    this.wake();
  }

  private wake(): void {
    const wake = this.waiting;
    this.waiting = null;
    wake?.();
  }

  private async pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    for (;;) {
      const piece = this.queue.shift();
      if (piece) {
        this.bytesSent += piece.length;
        controller.enqueue(piece);
        this.hooks.ack();
        return;
      }
      if (this.ended) {
        const error = this.ended.error;
        if (error) controller.error(error);
        else controller.close();
        return;
      }
      await new Promise<void>((resolve) => (this.waiting = resolve));
    }
  }
}
