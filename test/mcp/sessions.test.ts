// The session store: bounded (the least recently used goes first) and expiring when idle, each
// dropped session closed, so an agent that vanishes without a DELETE costs nothing after a while.
import { expect, test } from "bun:test";
import type { Session } from "../../src/mcp/sessions.ts";
import { Sessions } from "../../src/mcp/sessions.ts";

function fakeSession(closed: string[], id: string, now: number): Session {
  return { server: { close: async () => void closed.push(id) }, transport: {}, lastSeen: now } as unknown as Session;
}

test("past the cap the least recently used session is closed, not the newest nor one just used", async () => {
  const closed: string[] = [];
  let now = 0;
  const sessions = new Sessions({ max: 2, idleMs: 60_000, now: () => now });
  sessions.add("a", fakeSession(closed, "a", now));
  sessions.add("b", fakeSession(closed, "b", now));
  now = 10;
  expect(sessions.get("a")).toBeDefined(); // a is now the most recently used
  sessions.add("c", fakeSession(closed, "c", now));
  await Bun.sleep(0);
  expect(closed).toEqual(["b"]);
  expect(sessions.size).toBe(2);
  expect(sessions.get("b")).toBeUndefined();
  await sessions.close();
  expect(closed.sort()).toEqual(["a", "b", "c"]);
});

test("an idle session expires: get() refuses it and sweep() closes the idle ones only", async () => {
  const closed: string[] = [];
  let now = 0;
  const sessions = new Sessions({ max: 10, idleMs: 1000, now: () => now });
  sessions.add("old", fakeSession(closed, "old", now));
  sessions.add("busy", fakeSession(closed, "busy", now));
  sessions.add("stale", fakeSession(closed, "stale", now));
  now = 900;
  sessions.get("busy");
  now = 1500;
  expect(sessions.get("stale")).toBeUndefined();
  expect(sessions.sweep()).toBe(1);
  await Bun.sleep(0);
  expect(closed.sort()).toEqual(["old", "stale"]);
  expect(sessions.get("busy")).toBeDefined();
  await sessions.close();
});
