// Writes the OpenAPI 3.1 document that GET /v1/openapi.json serves, without a server: the whole
// app is built in-process on a throwaway data directory and asked for the document over its own
// router (so the file is exactly what clients get).
//
//   bun scripts/openapi.ts dist/openapi.json     (no argument: to standard output)
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import * as v from "valibot";
import { createLakehouse } from "../src/app.ts";
import { configSchema } from "../src/config/schema.ts";
import { silentLogger } from "../src/log.ts";

const out = process.argv[2];
const dataDir = mkdtempSync(join(tmpdir(), "lh-openapi-"));
try {
  // Defaults everywhere (bind address included: it becomes servers[0]); only the data lives elsewhere.
  const config = v.parse(configSchema, { server: { access_log: false }, storage: { fs: { root: dataDir } } });
  const lh = await createLakehouse(config, silentLogger);
  try {
    const res = await lh.app.fetch(new Request("http://localhost/v1/openapi.json"), { ip: "127.0.0.1" });
    if (res.status !== 200) throw new Error(`GET /v1/openapi.json answered ${res.status}: ${await res.text()}`);
    const text = `${JSON.stringify(await res.json(), null, 2)}\n`;
    if (out) {
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, text);
      console.error(`openapi: wrote ${out}`);
    } else {
      process.stdout.write(text);
    }
  } finally {
    await lh.close();
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
