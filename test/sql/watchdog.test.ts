// The watchdog's choice from one sample: a busy worker past the statement cap, then the largest
// busy worker when all of them together pass the total cap; never an idle one.
import { describe, expect, test } from "bun:test";
import { overCaps } from "../../src/sql/watchdog.ts";

const MiB = 1024 * 1024;
const caps = { statement: 1000 * MiB, total: 2000 * MiB };
const kinds = (kills: ReturnType<typeof overCaps<string>>) => kills.map((k) => `${k.worker}:${k.reason.kind}`);

describe("overCaps", () => {
  test("under both caps: nothing", () => {
    expect(
      overCaps(
        [
          { worker: "a", rss: 900 * MiB, busy: true },
          { worker: "b", rss: 900 * MiB, busy: false },
        ],
        caps,
      ),
    ).toEqual([]);
  });

  test("a busy worker past the statement cap, and only it", () => {
    const kills = overCaps(
      [
        { worker: "a", rss: 1001 * MiB, busy: true },
        { worker: "b", rss: 500 * MiB, busy: true },
      ],
      caps,
    );
    expect(kills).toEqual([{ worker: "a", reason: { kind: "statement_rss", rssBytes: 1001 * MiB } }]);
  });

  test("an idle worker is never killed, whatever it holds", () => {
    expect(overCaps([{ worker: "a", rss: 5000 * MiB, busy: false }], caps)).toEqual([]);
  });

  test("all together past the total cap: the largest busy one, idle ones counted", () => {
    const kills = overCaps(
      [
        { worker: "idle", rss: 900 * MiB, busy: false },
        { worker: "small", rss: 300 * MiB, busy: true },
        { worker: "big", rss: 850 * MiB, busy: true },
      ],
      caps,
    );
    expect(kills).toEqual([{ worker: "big", reason: { kind: "total_rss", rssBytes: 850 * MiB, totalBytes: 2050 * MiB } }]);
  });

  test("memory freed by a statement-cap kill does not make the total cap kill a second statement", () => {
    const kills = overCaps(
      [
        { worker: "hog", rss: 1500 * MiB, busy: true },
        { worker: "other", rss: 900 * MiB, busy: true },
      ],
      caps,
    );
    expect(kinds(kills)).toEqual(["hog:statement_rss"]);
  });
});
