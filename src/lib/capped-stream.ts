// Reading untrusted bodies under a byte cap, in one place: a request body, an upload written
// put-if-absent, an embedding server's answer. A declared length over the cap is refused before a
// byte is read, and a body that lies about its length is stopped at the first chunk past the cap,
// so an oversized body can never be buffered whole.

/**
 * Reads `stream` whole, throwing `tooLarge()` when `declaredLength` (a Content-Length, NaN or
 * undefined when absent) or the bytes actually read pass `limit`. Leaving the loop early cancels
 * the stream, so its sender stops too. A null stream is an empty body.
 */
export async function readStreamCapped(
  stream: ReadableStream<Uint8Array> | null | undefined,
  declaredLength: number | undefined,
  limit: number,
  tooLarge: () => Error,
): Promise<Uint8Array> {
  if ((declaredLength ?? Number.NaN) > limit) throw tooLarge();
  if (!stream) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of stream) {
    total += chunk.byteLength;
    if (total > limit) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

/** Passes `stream` through, failing it with `tooLarge()` at the first chunk that takes it past `limit`. */
export function cappedStream(stream: ReadableStream<Uint8Array>, limit: number, tooLarge: () => Error): ReadableStream<Uint8Array> {
  let seen = 0;
  return stream.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > limit) controller.error(tooLarge());
        else controller.enqueue(chunk);
      },
    }),
  );
}
