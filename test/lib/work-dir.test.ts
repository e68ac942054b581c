import { expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openWorkDir } from "../../src/lib/work-dir.ts";
import { tempDir } from "../support/tmp.ts";

/** A pid no process has: past the kernel's pid_max. */
const DEAD_PID = 4_194_304 + 17;

test("two instances in one process on one base keep their own folders; close removes only its own", async () => {
  const base = tempDir("lh-work-");
  const a = await openWorkDir(base);
  writeFileSync(join(a.path, "spooled"), "a's upload");
  const b = await openWorkDir(base);
  expect(b.leftoversRemoved).toBe(0);
  expect(existsSync(join(a.path, "spooled"))).toBe(true);
  expect(a.path).not.toBe(b.path);
  await b.close();
  expect(existsSync(b.path)).toBe(false);
  expect(existsSync(join(a.path, "spooled"))).toBe(true);
  await a.close();
  expect(readdirSync(base)).toEqual([]);
});

test("opening removes the folders of dead processes, and of this pid when no live instance owns them", async () => {
  const base = tempDir("lh-work-");
  const dead = join(base, `${DEAD_PID}-0123abcd`);
  // The same pid as ours but not opened here: what a crashed server that was pid 1 in its container left.
  const reused = join(base, `${process.pid}-89abcdef`);
  for (const dir of [dead, reused]) {
    mkdirSync(join(dir, "ingest-x"), { recursive: true });
    writeFileSync(join(dir, "ingest-x", "upload"), "left by a crash");
  }
  // A folder of a process that is alive (our parent) and names this module never gives stay.
  const alive = join(base, `${process.ppid}-fedcba98`);
  mkdirSync(alive);
  for (const other of ["notes.txt", "12345", "x-0123abcd", `${DEAD_PID}-0123ABCD`]) writeFileSync(join(base, other), "not ours");
  const w = await openWorkDir(base);
  expect(w.leftoversRemoved).toBe(2);
  expect(existsSync(dead)).toBe(false);
  expect(existsSync(reused)).toBe(false);
  expect(existsSync(alive)).toBe(true);
  expect(readdirSync(base).sort()).toEqual(
    [`${DEAD_PID}-0123ABCD`, "12345", "notes.txt", "x-0123abcd", `${process.ppid}-fedcba98`, w.path.slice(base.length + 1)].sort(),
  );
  await w.close();
});
