// Load client for scripts/bench/http.ts, run in its own process so it does not share an event loop
// with the server under test. Keep-alive fetch loops, fixed concurrency, fixed duration.
// usage: bun scripts/bench/http-load.ts <mode: get|putget> <url> <concurrency> <seconds> [token]
import { percentile } from "./report.ts";

const [mode, url, concurrencyArg, secondsArg, token] = Bun.argv.slice(2);
const concurrency = Number(concurrencyArg);
const deadline = performance.now() + Number(secondsArg) * 1000;
const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
const payload = new Uint8Array(4096).fill(120);
const latencies: number[] = [];
let errors = 0;

async function worker(id: number): Promise<void> {
  let i = 0;
  while (performance.now() < deadline) {
    const started = performance.now();
    try {
      if (mode === "get") {
        const res = await fetch(url!, { headers });
        await res.arrayBuffer();
        if (!res.ok) errors++;
      } else {
        const key = `${url}/bench/${id}/${i++ % 100}`;
        const put = await fetch(key, { method: "PUT", body: payload, headers });
        await put.arrayBuffer();
        const get = await fetch(key, { headers });
        const body = await get.arrayBuffer();
        if (!put.ok || !get.ok || body.byteLength !== payload.byteLength) errors++;
      }
    } catch {
      errors++;
    }
    latencies.push(performance.now() - started);
  }
}

const started = performance.now();
await Promise.all(Array.from({ length: concurrency }, (_, i) => worker(i)));
const elapsed = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
console.log(
  JSON.stringify({ ops: latencies.length, per_s: latencies.length / elapsed, p50_ms: percentile(latencies, 50), p99_ms: percentile(latencies, 99), errors }),
);
