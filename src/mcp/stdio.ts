// `lakehouse mcp --url http://127.0.0.1:3110 [--token T]`: an MCP client that speaks stdio (a
// desktop agent starting a command) is bridged to a running server's /v1/mcp, message for
// message. The bridge opens no data directory, so it never competes with the server for one.
//
// A session the server closed (idle past its limit, or the server restarted) answers 404: the
// bridge then initializes a new one with the client's own initialize request and sends the
// message again, so a long-lived stdio client never sees the server's sessions come and go.
import { StreamableHTTPClientTransport, StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { isInitializeRequest, isJSONRPCRequest, isJSONRPCResultResponse, type JSONRPCMessage, type JSONRPCRequest } from "@modelcontextprotocol/sdk/types.js";

export const DEFAULT_URL = "http://127.0.0.1:3110";

export const USAGE = `usage: lakehouse mcp [--url URL] [--token TOKEN]

Bridges an MCP client on stdin/stdout to a running lakehouse's /v1/mcp.
  --url URL      the server (default ${DEFAULT_URL})
  --token TOKEN  its auth.token (default: the LH_AUTH_TOKEN environment variable)
`;

export interface StdioOptions {
  url: URL;
  token?: string;
}

class Usage extends Error {}

export function parseStdioArgs(argv: readonly string[], env: Record<string, string | undefined> = process.env): StdioOptions | "help" {
  let url = DEFAULT_URL;
  let token = env.LH_AUTH_TOKEN || undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--help" || arg === "-h") return "help";
    const eq = arg.indexOf("=");
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    if (flag !== "--url" && flag !== "--token") throw new Usage(`unknown argument ${JSON.stringify(arg)}`);
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || value === "") throw new Usage(`${flag} needs a value`);
    if (flag === "--url") url = value;
    else token = value;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Usage(`--url ${JSON.stringify(url)} is not a URL`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new Usage(`--url must be http:// or https://, got ${parsed.protocol}`);
  parsed.pathname = `${parsed.pathname.replace(/\/+$/, "")}/v1/mcp`;
  return { url: parsed, token };
}

const say = (line: string) => process.stderr.write(`lakehouse mcp: ${line}\n`);

/** The bridge between one stdio client and the server's /v1/mcp. */
export class Bridge {
  private upstream: StreamableHTTPClientTransport | null = null;
  /** The client's initialize request, replayed when the server lost the session. */
  private initialize: JSONRPCRequest | null = null;
  private reinits = 0;
  private readonly swallowed = new Set<string | number>();

  constructor(
    private readonly opts: StdioOptions,
    private readonly toClient: (message: JSONRPCMessage) => Promise<void>,
  ) {}

  /** The server's session this bridge is in, once initialized. */
  get sessionId(): string | undefined {
    return this.upstream?.sessionId;
  }

  private open(): StreamableHTTPClientTransport {
    const headers: Record<string, string> = this.opts.token ? { Authorization: `Bearer ${this.opts.token}` } : {};
    const t = new StreamableHTTPClientTransport(this.opts.url, { requestInit: { headers } });
    t.onmessage = (message) => {
      // The answer to initialize names the protocol version every later request must carry.
      if (isJSONRPCResultResponse(message) && typeof message.result.protocolVersion === "string") t.setProtocolVersion(message.result.protocolVersion);
      if ("id" in message && message.id !== undefined && this.swallowed.delete(message.id)) return;
      void this.toClient(message);
    };
    // Failures of send() are thrown to forward(), which answers the client; the rest (a GET
    // stream the server does not offer) is nothing the client needs to hear about.
    t.onerror = () => {};
    return t;
  }

  /** Sends one client message upstream; a request that cannot be delivered is answered with an error. */
  async forward(message: JSONRPCMessage): Promise<void> {
    if (isInitializeRequest(message)) {
      this.initialize = message as JSONRPCRequest;
      // A client that initializes again starts afresh.
      if (this.upstream) await this.close();
    }
    let failure: unknown;
    try {
      await this.send(message);
      return;
    } catch (err) {
      failure = err;
    }
    if (failure instanceof StreamableHTTPError && failure.code === 404 && this.initialize && !isInitializeRequest(message)) {
      try {
        await this.reinitialize();
        await this.send(message);
        return;
      } catch (again) {
        failure = again;
      }
    }
    const text = failure instanceof Error ? failure.message : String(failure);
    say(`${this.opts.url.origin} did not take a message: ${text}`);
    if (isJSONRPCRequest(message)) {
      await this.toClient({
        jsonrpc: "2.0",
        id: message.id,
        error: { code: -32000, message: `the lakehouse at ${this.opts.url.origin} refused or did not answer: ${text}` },
      });
    }
  }

  private async send(message: JSONRPCMessage): Promise<void> {
    this.upstream ??= this.open();
    await this.upstream.send(message);
  }

  private async reinitialize(): Promise<void> {
    await this.upstream?.close().catch(() => {});
    this.upstream = null;
    const id = `lakehouse-bridge-reinit-${++this.reinits}`;
    this.swallowed.add(id);
    await this.send({ ...this.initialize!, id });
    await this.send({ jsonrpc: "2.0", method: "notifications/initialized" });
    say("the server had closed the session; initialized a new one");
  }

  /** Ends the server's session (DELETE) and the connection. */
  async close(): Promise<void> {
    const t = this.upstream;
    this.upstream = null;
    if (!t) return;
    await t.terminateSession().catch(() => {});
    await t.close().catch(() => {});
  }
}

/** Runs the bridge until the client closes stdin. Exit code: 0, or 2 on a usage error. */
export async function runStdio(argv: string[]): Promise<number> {
  let opts: StdioOptions | "help";
  try {
    opts = parseStdioArgs(argv);
  } catch (err) {
    if (!(err instanceof Usage)) throw err;
    process.stderr.write(`lakehouse mcp: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (opts === "help") {
    process.stdout.write(USAGE);
    return 0;
  }
  const stdio = new StdioServerTransport();
  const bridge = new Bridge(opts, (m) => stdio.send(m));
  // Messages are forwarded as they come, not one after another: a slow query must not hold up
  // the client's other calls. The client itself waits for initialize before anything else.
  const inflight = new Set<Promise<void>>();
  stdio.onmessage = (message) => {
    const p = bridge.forward(message).finally(() => inflight.delete(p));
    inflight.add(p);
  };
  stdio.onerror = (err) => say(`stdin: ${err.message}`);
  const ended = new Promise<void>((resolve) => {
    process.stdin.once("end", resolve);
    process.stdin.once("close", resolve);
  });
  await stdio.start();
  await ended;
  await Promise.allSettled([...inflight]);
  await bridge.close();
  await stdio.close();
  return 0;
}
