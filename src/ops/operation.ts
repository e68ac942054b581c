// An operation is declared once: its name, where it sits in the HTTP API, valibot schemas for its
// inputs and its result, and a handler that knows nothing of HTTP. The registry turns the same
// declaration into a Hono route, an OpenAPI operation and an in-process `ops.call`, which the MCP
// tools (src/mcp) and the workflow steps (src/workflows) go through.
import type * as v from "valibot";
import type { ErrorCode } from "../errors.ts";

export type Method = "get" | "put" | "post" | "delete" | "head" | "patch";
export type Schema = v.GenericSchema;
type Out<S> = S extends Schema ? v.InferOutput<S> : unknown;

/** Who is calling. Named identities come with API keys; today the edge knows this much. */
export interface Identity {
  kind: "token" | "anonymous" | "internal";
  /** The client's address, when the call came over the network and it was looked up. */
  address?: string;
}

export interface OpContext {
  requestId: string;
  identity: Identity;
  /** Aborted when the caller went away (HTTP) or gave up (in-process). */
  signal: AbortSignal;
  /**
   * The media type the result will be sent as, when the operation offers representations besides
   * JSON and the caller chose one (HTTP Accept); undefined means JSON. A handler may prepare that
   * representation itself (sql.query encodes exports in its worker).
   */
  representation?: string;
}

/** A streamed request body: storage PUT and ingest upload read this instead of a Request. */
export interface StreamIn {
  body: ReadableStream<Uint8Array> | null;
  contentType?: string;
  /** The declared length in bytes, when the caller declared one. */
  length?: number;
  /**
   * Reads the body whole, when the transport can do that cheaper than through `body` (Bun reads a
   * request body natively; a JS stream costs a copy per chunk). Use one of the two, not both.
   */
  whole?: () => Promise<ArrayBuffer>;
}

/** A streamed (or already whole) response body with its media type. */
export interface StreamOut {
  body: ReadableStream<Uint8Array> | Uint8Array | string | null;
  contentType: string;
  length?: number;
}

/** How an HTTP request's headers feed inputs and how a result's metadata becomes headers. */
export interface HttpBinding<I, R> {
  /** Input field → request header (lower case) it is read from, e.g. { only_if_absent: "if-none-match" }. */
  headers?: Record<string, string>;
  /** Success status; a function when it depends on the result (201 created / 200 updated). */
  status?: number | ((result: R, input: I) => number);
  /** Every success status the operation can answer with, and when (for the OpenAPI document). */
  statuses?: Record<number, string>;
  /** Extra response headers derived from the result. */
  responseHeaders?: (result: R, input: I) => Record<string, string>;
  /**
   * Other media types the result can be sent as, chosen by the Accept header; JSON stays the
   * default. The encoder turns the typed result into bytes.
   */
  representations?: Record<string, (result: R) => StreamOut>;
}

export interface OperationSpec<P extends Schema | undefined, Q extends Schema | undefined, H extends Schema | undefined, B extends Schema | undefined, R> {
  /** module.verb, e.g. vector.search. */
  name: string;
  method: Method;
  /** Full path, OpenAPI style: /v1/vectors/indexes/{name}; {key...} matches several segments. */
  path: string;
  summary: string;
  description?: string;
  /** Groups operations in the OpenAPI document (the module's name). */
  tag: string;
  /** Path parameters; each is a string field of the input. */
  params?: P;
  /** Query-string fields. Their schemas must accept strings (HTTP) as well as typed values (in-process). */
  query?: Q;
  /** Inputs read from request headers over HTTP (see http.headers for the mapping). */
  headers?: H;
  /** A JSON request body; its fields join the input. */
  body?: B;
  /** A raw request body instead of JSON: the handler gets it as `input.stream`. */
  stream?: { contentTypes: string[]; description: string };
  /** The result's schema (JSON results), or "stream" for a StreamOut. */
  result?: Schema | "stream";
  /** Media types of a stream result, for the OpenAPI document. */
  produces?: string[];
  /** Error codes this operation can answer with (beyond the edge's own), with when. */
  errors?: Partial<Record<ErrorCode, string>>;
  /** No auth (health). */
  public?: boolean;
  /** Cap on this operation's JSON body; the server's max_json_bytes otherwise. */
  maxBodyBytes?: number;
  http?: HttpBinding<OpInput<P, Q, H, B>, R>;
  handler: (input: OpInput<P, Q, H, B>, ctx: OpContext) => R | Promise<R>;
}

export type OpInput<P, Q, H, B> = Out<P> & Out<Q> & Out<H> & Out<B> & { stream?: StreamIn };

/** An operation with its types erased, as the registry stores it. */
// biome-ignore lint/suspicious/noExplicitAny: the registry holds operations of every shape
export type AnyOperation = OperationSpec<any, any, any, any, any>;

/** Declares an operation, keeping its input and result types for the handler. */
export function op<
  P extends Schema | undefined = undefined,
  Q extends Schema | undefined = undefined,
  H extends Schema | undefined = undefined,
  B extends Schema | undefined = undefined,
  R = unknown,
>(spec: OperationSpec<P, Q, H, B, R>): AnyOperation {
  return spec as AnyOperation;
}
