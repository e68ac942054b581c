// The module contract. Every module folder's index.ts exports `open(ctx, ports)`: ctx carries what
// every module gets (its config section, its view of the object store, the log, the operation
// registry to declare its operations in, the event bus); ports are the typed services of other
// modules it needs (src/ports.ts). app.ts opens the modules in order and closes them in reverse.
import type { EventBus } from "./events.ts";
import type { Logger } from "./log.ts";
import type { OperationRegistry } from "./ops/registry.ts";
import type { ObjectStore } from "./storage/store.ts";

export interface ModuleHealth {
  status: "ok" | "degraded";
  /** Why it is degraded, or figures worth showing (counts, never paths or secrets). */
  detail?: Record<string, unknown>;
}

export interface ModuleContext<C> {
  config: C;
  store: ObjectStore;
  log: Logger;
  ops: OperationRegistry;
  events: EventBus;
  /**
   * Figures about a slow open (e.g. indexes loaded of total), shown by /health while the process
   * starts (src/startup.ts). Optional: a module that opens quickly reports nothing.
   */
  progress?: (figures: Record<string, unknown>) => void;
}

export interface Module {
  readonly name: string;
  health(): ModuleHealth;
  /** Flush and release resources; called once at shutdown, after the server stopped accepting. */
  close(): Promise<void>;
}
