// Declares a module's routes once: each declaration registers the Hono handler and the OpenAPI
// operation together, and parses the declared body and query before the handler runs.
import { type Context, Hono } from "hono";
import type * as v from "valibot";
import { readJson, readQuery } from "./body.ts";
import type { ApiSpec, Method, OperationSpec } from "./openapi.ts";

export interface AppEnv {
  Bindings: { ip?: string };
  Variables: { requestId: string };
}

type Out<S> = S extends v.GenericSchema ? v.InferOutput<S> : undefined;

export interface RouteDef<B extends v.GenericSchema | undefined, Q extends v.GenericSchema | undefined>
  extends Omit<OperationSpec, "path" | "tag" | "body" | "query"> {
  /** Relative to the module's mount, OpenAPI style: /indexes/{name}, /objects/{key...} (greedy). */
  path: string;
  body?: B;
  query?: Q;
}

export type Handler<B, Q> = (
  c: Context<AppEnv>,
  input: { body: Out<B>; query: Out<Q> },
) => Response | Promise<Response>;

export function honoPath(path: string): string {
  return path.replace(/\{(\w+)\.\.\.\}/g, ":$1{.+}").replace(/\{(\w+)\}/g, ":$1");
}

export class ModuleRouter {
  readonly app = new Hono<AppEnv>();

  constructor(
    private readonly api: ApiSpec,
    /** Where the module is mounted, e.g. /v1/storage. */
    readonly base: string,
    readonly tag: string,
    private readonly jsonLimit: number,
  ) {}

  route<B extends v.GenericSchema | undefined = undefined, Q extends v.GenericSchema | undefined = undefined>(
    def: RouteDef<B, Q>,
    handler: Handler<B, Q>,
  ): void {
    this.api.add({ ...def, path: this.base + def.path, tag: this.tag });
    const method: Method = def.method;
    this.app.on(method.toUpperCase(), honoPath(def.path), async (c) => {
      const body = (def.body ? await readJson(c, def.body, this.jsonLimit) : undefined) as Out<B>;
      const query = (def.query ? readQuery(c, def.query) : undefined) as Out<Q>;
      return handler(c, { body, query });
    });
  }
}
