// The ceiling for scripts/bench/http.ts: a bare Bun.serve answering "ok".
const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("ok") });
console.log(JSON.stringify({ listen: `http://127.0.0.1:${server.port}` }));
