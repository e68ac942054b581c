// What the other modules publish on the event bus becomes observer events, without those modules
// knowing: catalog commits, ingests, playbook outcomes, corpus builds and index lifecycle. A bus
// listener never fails its publisher: an event the observer cannot take (back-pressure, a failing
// log) is counted as dropped and logged.
import type { EventBus, LakehouseEvents, Topic } from "../events.ts";
import type { Logger } from "../log.ts";
import type { EventStore } from "./event-store.ts";
import type { Level } from "./model.ts";

const LEVELS: { [T in Topic]: (p: LakehouseEvents[T]) => Level } = {
  "catalog.committed": () => "info",
  "ingest.completed": () => "info",
  "matrix.playbooks_recorded": () => "info",
  "matrix.corpus_built": (p) => (p.state === "failed" ? "error" : "info"),
  "vector.index_created": () => "info",
  "vector.index_dropped": () => "info",
  "vector.index_unavailable": () => "error",
};

export function subscribeBus(bus: EventBus, store: EventStore, log: Logger): { unsubscribe(): void; dropped(): number } {
  let dropped = 0;
  const offs = (Object.keys(LEVELS) as Topic[]).map((topic) => {
    const dot = topic.indexOf(".");
    const source = topic.slice(0, dot);
    const kind = topic.slice(dot + 1);
    const level = LEVELS[topic] as (p: unknown) => Level;
    return bus.on(topic, async (payload) => {
      try {
        await store.append([{ source, kind, level: level(payload), payload }]);
      } catch (err) {
        dropped++;
        log.warn("observer: a bus event was not recorded", { topic, error: String(err) });
      }
    });
  });
  return {
    unsubscribe: () => {
      for (const off of offs) off();
    },
    dropped: () => dropped,
  };
}
