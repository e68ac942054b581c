// Durability of runs: a real server killed with SIGKILL mid-step comes back with the run
// `interrupted` (never `running`), the finished step kept with its output and the running one
// failed as interrupted; resume re-runs only the unfinished step. A graceful stop leaves the same
// for running runs; queued runs start again on the next open; the run log replays with a corrupt
// line skipped and counted; a snapshot (compaction) reads back.
import { expect, test } from "bun:test";
import { appendFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { startChild } from "../support/child.ts";
import { crashScope } from "../support/crash-scope.ts";
import { startFakeOllamaChat } from "./fake-chat.ts";
import { calls, harness, openGates, req, startRun, stepOf, waitRun } from "./helpers.ts";

const { newRoot, children } = crashScope("lh-wf-dur-", () => {
  calls.length = 0;
});

test("kill -9 mid-step: the run comes back interrupted with its finished step kept; resume re-runs only the rest", async () => {
  const root = newRoot();
  const chat = startFakeOllamaChat();
  try {
    const env = { LH_STORAGE_FS_ROOT: root, LH_WORKFLOWS_LLM_PROVIDER: "ollama", LH_WORKFLOWS_LLM_OLLAMA_URL: chat.url };
    const first = await startChild(env);
    children.push(first);
    chat.behaviour.hang = true;
    const started = await startRun(first.url, {
      workflow: {
        steps: [
          { id: "prep", mode: "transform", input: { from: { topic: "welders" } } },
          { id: "ask", mode: "llm.generate", needs: ["prep"], input: { prompt: "about {{steps.prep.output.topic}}" } },
        ],
      },
    });
    expect(started.status).toBe(202);
    // The llm step is running once the provider has its request.
    while (chat.requests.length === 0) await Bun.sleep(10);
    const mid = (await req(first.url, "GET", `/runs/${started.body.id}`)).body;
    expect(mid.status).toBe("running");
    first.proc.kill("SIGKILL");
    await first.proc.exited;
    chat.behaviour.hang = false;
    chat.release();

    const second = await startChild(env);
    children.push(second);
    const after = (await req(second.url, "GET", `/runs/${started.body.id}`)).body;
    expect(after.status).toBe("interrupted");
    expect(after.error.code).toBe("interrupted");
    expect(stepOf(after, "prep")).toMatchObject({ status: "succeeded", attempts: 1, output: { topic: "welders" } });
    expect(stepOf(after, "ask")).toMatchObject({ status: "failed", error: { code: "interrupted" } });
    expect((await req(second.url, "GET", "/runs?status=running")).body.runs).toEqual([]);

    const resumed = await req(second.url, "POST", `/runs/${started.body.id}/resume`);
    expect(resumed.status).toBe(202);
    const done = await waitRun(second.url, started.body.id);
    expect(done.status).toBe("succeeded");
    expect(done.resumes).toBe(1);
    expect(stepOf(done, "prep").attempts).toBe(1);
    expect(stepOf(done, "ask").output.content).toBe("echo: about welders");
    // The provider was asked twice: the killed attempt and the resumed one; prep never ran again.
    expect(chat.requests).toHaveLength(2);
  } finally {
    await chat.stop();
  }
}, 60_000);

test("a graceful stop leaves a running run interrupted; a reopen keeps it so; resume finishes it", async () => {
  const root = newRoot();
  let h = await harness({}, root);
  const id = await h.start({
    steps: [
      { id: "a", mode: "test.sleep", input: { ms: 1, value: "a" } },
      { id: "b", mode: "test.sleep", needs: ["a"], input: { ms: 10_000, value: "b", unless_open: "graceful" } },
      { id: "c", mode: "test.sleep", needs: ["b"], input: { ms: 1, value: "c" } },
    ],
  });
  while (!calls.some((c) => c.input.value === "b")) await Bun.sleep(5);
  await h.close();
  h = await harness({}, root);
  try {
    const run = await h.view(id);
    expect(run.status).toBe("interrupted");
    expect(stepOf(run, "a").status).toBe("succeeded");
    expect(stepOf(run, "b").error.code).toBe("interrupted");
    expect(stepOf(run, "c").status).toBe("skipped");
    calls.length = 0;
    openGates.add("graceful");
    await h.ops.call("workflows.resume_run", { id });
    const done = await h.wait(id);
    // Resume re-ran b and c, not a.
    expect(done.status).toBe("succeeded");
    expect(calls.map((c) => c.input.value)).toEqual(["b", "c"]);
  } finally {
    await h.close();
  }
});

test("queued runs start again after a restart", async () => {
  const root = newRoot();
  let h = await harness({ max_running: 1 }, root);
  const busy = await h.start({ steps: [{ id: "a", mode: "test.sleep", input: { ms: 300, value: "busy" } }] });
  const waiting = await h.start({ steps: [{ id: "a", mode: "test.sleep", input: { ms: 1, value: "waiting" } }] });
  expect(h.mod.service.get(waiting).status).toBe("queued");
  await h.close();
  h = await harness({ max_running: 1 }, root);
  try {
    expect((await h.view(busy)).status).toBe("interrupted");
    expect((await h.wait(waiting)).status).toBe("succeeded");
  } finally {
    await h.close();
  }
});

test("the log replays after a crash with a corrupt line skipped and counted; a snapshot reads back", async () => {
  const root = newRoot();
  const crashed = await harness({ compact_after_bytes: 600 }, root);
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push(await crashed.start({ steps: [{ id: "a", mode: "transform", input: { from: i } }] }));
  for (const id of ids) await crashed.wait(id);
  // A compaction ran (the log passed 600 bytes): a snapshot holds the first runs, the log the rest.
  await crashed.mod.service.runs.compact();
  ids.push(await crashed.start({ steps: [{ id: "a", mode: "transform", input: { from: 3 } }] }));
  await crashed.wait(ids[3]!);
  // No graceful stop (its snapshot would cover everything): the log is flushed and closed, as a kill -9 leaves it.
  await crashed.mod.service.runs.log.close();
  expect(readdirSync(join(root, "objects", "_workflows", "runs")).some((f) => f.startsWith("snapshot-"))).toBe(true);
  const segs = readdirSync(join(root, "wal")).filter((f) => f.endsWith(".log"));
  appendFileSync(join(root, "wal", segs.at(-1)!), "deadbeef {not json}\n");
  const h = await harness({}, root);
  try {
    for (const [i, id] of ids.entries()) expect(stepOf(await h.view(id), "a").output).toBe(i);
    expect(h.mod.health().status).toBe("degraded");
    expect((h.mod.health().detail as any).skipped_records.count).toBe(1);
  } finally {
    await h.close();
  }
});
