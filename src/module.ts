// What app.ts needs from each module: a name, its routes, its health and a way to close it.
import type { ModuleRouter } from "./http/router.ts";

export interface ModuleHealth {
  status: "ok" | "degraded";
  /** Why it is degraded, or figures worth showing (counts, never paths or secrets). */
  detail?: Record<string, unknown>;
}

export interface Module {
  readonly name: string;
  readonly router?: ModuleRouter;
  health(): ModuleHealth;
  /** Flush and release resources; called once at shutdown, after the server stopped accepting. */
  close(): Promise<void>;
}
