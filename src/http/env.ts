// The Hono environment of every request: the client address Bun.serve passes in (looked up lazily)
// and the request id the request context sets.
export interface AppEnv {
  Bindings: { ip?: string };
  Variables: { requestId: string };
}
