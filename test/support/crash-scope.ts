// Crash tests start real server processes on their own data roots: this registers them and, after
// each test, kills whatever is still running and removes the roots. (Tests only: imports bun:test.)
import { afterEach } from "bun:test";
import { rmSync } from "node:fs";
import type { Child } from "./child.ts";
import { tempDir } from "./tmp.ts";

export function crashScope(prefix: string, after?: () => void) {
  const roots: string[] = [];
  const children: Child[] = [];
  afterEach(async () => {
    for (const c of children.splice(0)) {
      c.proc.kill("SIGKILL");
      await c.proc.exited;
    }
    for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
    after?.();
  });
  return {
    /** A fresh data root, removed after the test. */
    newRoot(): string {
      const r = tempDir(prefix);
      roots.push(r);
      return r;
    },
    /** A child server killed (if still running) after the test. */
    track<C extends Child>(child: C): C {
      children.push(child);
      return child;
    },
    children,
  };
}
