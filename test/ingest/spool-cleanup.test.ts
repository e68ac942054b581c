// Upload spools live under the data root (or ingest.temp_dir), one folder per running instance,
// and a start removes what crashed instances left: a real server killed with SIGKILL mid-upload,
// then started again. A spool of an instance still running is never touched, whichever process.
import { expect, test } from "bun:test";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { type Child, startChild } from "../support/child.ts";
import { ingest } from "../support/ingest.ts";
import { tempDir } from "../support/tmp.ts";

/** Starts an upload that sends ≈5 MiB (more than one spool write batch) and then stalls, so its spool stays on disk. */
function stalledUpload(url: string): AbortController {
  const abort = new AbortController();
  let sent = false;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent) return new Promise(() => {}); // never sends the rest
      sent = true;
      controller.enqueue(new TextEncoder().encode(`id,text\n${"1,xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n".repeat(80_000)}`));
    },
  });
  fetch(`${url}/v1/ingest/stalled`, {
    method: "POST",
    headers: { "content-type": "text/csv" },
    body,
    signal: abort.signal,
    duplex: "half",
  } as RequestInit).catch(() => {});
  return abort;
}

/** The spooled upload files under `base`: <instance>/ingest-<random>/upload. */
function spooledUploads(base: string): string[] {
  if (!existsSync(base)) return [];
  return readdirSync(base).flatMap((inst) =>
    readdirSync(join(base, inst))
      .filter((n) => n.startsWith("ingest-"))
      .map((n) => join(base, inst, n, "upload"))
      .filter((p) => existsSync(p) && statSync(p).size > 0),
  );
}

async function until<T>(what: () => T | undefined | false, label: string): Promise<T> {
  for (let i = 0; i < 2000; i++) {
    const v = what();
    if (v) return v;
    await Bun.sleep(10);
  }
  throw new Error(`timed out waiting for ${label}`);
}

async function kill9(child: Child): Promise<void> {
  child.proc.kill("SIGKILL");
  await child.proc.exited;
}

test("a server killed mid-upload leaks its spool under the data root; the next start removes it", async () => {
  const root = tempDir("lh-spool-crash-");
  const spoolBase = join(root, "spool", "ingest");
  const first = await startChild({ LH_STORAGE_FS_ROOT: root });
  const abort = stalledUpload(first.url);
  const [leaked] = await until(() => spooledUploads(spoolBase).length > 0 && spooledUploads(spoolBase), "the upload to spool");
  const instance = join(spoolBase, readdirSync(spoolBase)[0]!);
  expect(readdirSync(spoolBase)[0]).toStartWith(`${first.proc.pid}-`);
  await kill9(first);
  abort.abort();
  expect(existsSync(leaked!)).toBe(true);

  const second = await startChild({ LH_STORAGE_FS_ROOT: root });
  try {
    expect(existsSync(instance)).toBe(false);
    expect(readdirSync(spoolBase)).toEqual([expect.stringMatching(new RegExp(`^${second.proc.pid}-[0-9a-f]{8}$`))]);
    expect(second.stdout()).toContain('"removed ingest spools left by a stopped process"');
    expect((await ingest(second.url, "after", "a\n1\n")).status).toBe(201);
  } finally {
    await kill9(second);
  }
}, 60_000);

test("a shared ingest.temp_dir: a restart removes the dead instance's spool and keeps a live one's", async () => {
  const shared = tempDir("lh-spool-shared-");
  const rootA = tempDir("lh-root-a-");
  const live = await startChild({ LH_STORAGE_FS_ROOT: tempDir("lh-root-b-"), LH_INGEST_TEMP_DIR: shared });
  const crashed = await startChild({ LH_STORAGE_FS_ROOT: rootA, LH_INGEST_TEMP_DIR: shared });
  let restarted: Child | undefined;
  try {
    const abort = stalledUpload(crashed.url);
    await until(() => spooledUploads(shared).length > 0, "the upload to spool");
    await kill9(crashed);
    abort.abort();
    const liveDir = readdirSync(shared).find((n) => n.startsWith(`${live.proc.pid}-`))!;
    const deadDir = readdirSync(shared).find((n) => n.startsWith(`${crashed.proc.pid}-`))!;
    expect(liveDir).toBeDefined();
    expect(deadDir).toBeDefined();

    restarted = await startChild({ LH_STORAGE_FS_ROOT: rootA, LH_INGEST_TEMP_DIR: shared });
    const now = readdirSync(shared);
    expect(now).not.toContain(deadDir);
    expect(now).toContain(liveDir);
    expect(now.filter((n) => n.startsWith(`${restarted!.proc.pid}-`))).toHaveLength(1);
    // The live instance's spool still works.
    expect((await ingest(live.url, "still_fine", "a\n1\n")).status).toBe(201);
  } finally {
    await kill9(live);
    if (crashed.proc.exitCode === null) await kill9(crashed);
    if (restarted) await kill9(restarted);
  }
}, 60_000);
