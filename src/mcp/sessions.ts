// The MCP sessions: a transport and a server per mcp-session-id, bounded in number and expiring
// when idle, so an agent that vanishes without a DELETE costs nothing after a while, and a flood
// of initializations cannot grow memory without end.
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import type { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";

/**
 * Sessions kept at once; a new one past it closes the least recently used. A session holds a
 * transport, a server and their handler maps: ≈ 26 KB of heap each (measured: 200 sessions
 * initialized in-process), so the cap bounds them at ≈ 7 MB.
 */
export const MAX_SESSIONS = 256;
/**
 * A session unused this long is closed: its client sees 404 on its next request and
 * initializes again (what the MCP specification asks of a client that gets 404).
 */
export const SESSION_IDLE_MS = 30 * 60_000;

export interface Session {
  transport: WebStandardStreamableHTTPServerTransport;
  server: Server;
  lastSeen: number;
}

export class Sessions {
  // A Map iterates in insertion order: touching a session moves it to the end, so the first
  // entry is always the least recently used.
  private readonly byId = new Map<string, Session>();
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(private readonly opts: { max: number; idleMs: number; now?: () => number } = { max: MAX_SESSIONS, idleMs: SESSION_IDLE_MS }) {
    this.timer = setInterval(() => this.sweep(), Math.max(1000, Math.min(60_000, opts.idleMs / 4)));
    this.timer.unref();
  }

  private now(): number {
    return this.opts.now ? this.opts.now() : Date.now();
  }

  get size(): number {
    return this.byId.size;
  }

  /** The session, marked as used now; undefined when unknown, closed or expired. */
  get(id: string): Session | undefined {
    const s = this.byId.get(id);
    if (!s) return undefined;
    if (this.now() - s.lastSeen > this.opts.idleMs) {
      this.drop(id);
      return undefined;
    }
    s.lastSeen = this.now();
    this.byId.delete(id);
    this.byId.set(id, s);
    return s;
  }

  add(id: string, s: Session): void {
    this.byId.set(id, s);
    while (this.byId.size > this.opts.max) this.drop(this.byId.keys().next().value!);
  }

  /** Forgets a session and closes it (idempotent: closing fires the transport's onclose, which lands here again). */
  drop(id: string): void {
    const s = this.byId.get(id);
    if (!s) return;
    this.byId.delete(id);
    void s.server.close().catch(() => {});
  }

  /** Closes every session idle past the limit; answers how many. */
  sweep(): number {
    const cutoff = this.now() - this.opts.idleMs;
    let closed = 0;
    for (const [id, s] of this.byId) {
      if (s.lastSeen < cutoff) {
        this.drop(id);
        closed++;
      }
    }
    return closed;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    const all = [...this.byId.values()];
    this.byId.clear();
    await Promise.all(all.map((s) => s.server.close().catch(() => {})));
  }
}
