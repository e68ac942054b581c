// A TCP proxy in front of a real server (s3rver here) that holds every connection until the test
// opens the gate, or refuses them all: a store that is slow or unreachable at start-up, with no
// test hook in the server. Bytes pass through untouched (S3 signs the Host header).
import { connect, createServer, type Socket } from "node:net";

export interface GateProxy {
  /** The address to hand the server instead of the target's. */
  endpoint: string;
  /** Lets held and later connections through to the target. */
  open(): void;
  /** Resets held and later connections (the store is unreachable). */
  refuse(): void;
  /** Connections that arrived while the gate was closed. */
  readonly held: number;
  stop(): Promise<void>;
}

export async function gateProxy(target: string): Promise<GateProxy> {
  const { hostname, port } = new URL(target);
  let state: "closed" | "open" | "refused" = "closed";
  const waiting: Socket[] = [];
  let held = 0;
  const sockets = new Set<Socket>();
  const pass = (client: Socket) => {
    const upstream = connect(Number(port), hostname);
    sockets.add(upstream);
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
  };
  const server = createServer((client) => {
    sockets.add(client);
    client.on("error", () => {});
    if (state === "refused") return void client.resetAndDestroy();
    if (state === "open") return pass(client);
    held++;
    client.pause();
    waiting.push(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the proxy has no port");
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    open() {
      state = "open";
      for (const c of waiting.splice(0)) pass(c);
    },
    refuse() {
      state = "refused";
      for (const c of waiting.splice(0)) c.resetAndDestroy();
    },
    get held() {
      return held;
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
