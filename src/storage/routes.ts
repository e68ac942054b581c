// /v1/storage: raw object access, streaming both ways, Range honoured on GET.
import * as v from "valibot";
import { NotFound, RangeNotSatisfiable } from "../errors.ts";
import { queryInt, readBodyCapped } from "../http/body.ts";
import type { ApiSpec } from "../http/openapi.ts";
import { ModuleRouter } from "../http/router.ts";
import { tooLarge } from "./limits.ts";
import { parseRangeHeader, resolveSuffix } from "./range.ts";
import { type ByteRange, MAX_LIST_LIMIT, type ObjectInfo, type ObjectStore } from "./store.ts";

const ObjectInfoSchema = v.object({ key: v.string(), size: v.number(), etag: v.string(), last_modified: v.string() });
const ListQuery = v.object({
  prefix: v.optional(v.string(), ""),
  cursor: v.optional(v.string()),
  limit: v.optional(queryInt(1, MAX_LIST_LIMIT)),
});

const infoJson = (i: ObjectInfo) => ({ key: i.key, size: i.size, etag: i.etag, last_modified: i.lastModified.toISOString() });

function infoHeaders(info: ObjectInfo): Record<string, string> {
  return { ETag: `"${info.etag}"`, "Last-Modified": info.lastModified.toUTCString(), "Accept-Ranges": "bytes" };
}

/** Bodies up to this size with a declared length are read whole instead of streamed. */
const SMALL_BODY = 64 * 1024;

export function storageRoutes(store: ObjectStore & { capFor(key: string): number }, api: ApiSpec, jsonLimit: number): ModuleRouter {
  const r = new ModuleRouter(api, "/v1/storage", "storage", jsonLimit);

  r.route(
    {
      method: "put",
      path: "/objects/{key...}",
      summary: "Write an object (atomic replace). With If-None-Match: * it is created only if absent (409 otherwise).",
      rawBody: { contentTypes: ["application/octet-stream", "*/*"], description: "Object bytes, streamed." },
      responses: { 201: { description: "Stored", schema: ObjectInfoSchema } },
    },
    async (c) => {
      const key = c.req.param("key")!;
      const cap = store.capFor(key);
      if (Number(c.req.header("content-length") ?? 0) > cap) throw tooLarge(key, cap);
      const contentType = c.req.header("content-type");
      const declared = c.req.header("content-length");
      // A small body with a declared length is taken whole: cheaper than streaming it through.
      const small = declared !== undefined && Number(declared) <= SMALL_BODY;
      const info =
        c.req.header("if-none-match")?.trim() === "*"
          ? await store.putIfAbsent(key, await readBodyCapped(c.req.raw, cap))
          : await store.put(key, small ? new Uint8Array(await c.req.arrayBuffer()) : (c.req.raw.body ?? new Uint8Array(0)), { contentType });
      return c.json(infoJson(info), 201);
    },
  );

  r.route(
    {
      method: "get",
      path: "/objects/{key...}",
      summary: "Read an object, or a byte range of it (Range: bytes=a-b, a-, -n). HEAD returns the headers only.",
      responses: {
        200: { description: "The object", contentType: "application/octet-stream" },
        206: { description: "The requested range", contentType: "application/octet-stream" },
      },
    },
    async (c) => {
      const key = c.req.param("key")!;
      if (c.req.raw.method === "HEAD") {
        const info = await store.head(key);
        if (!info) return c.body(null, 404);
        return c.body(null, 200, { ...infoHeaders(info), "Content-Length": String(info.size) });
      }
      const parsed = parseRangeHeader(c.req.header("range"));
      let range: ByteRange | undefined;
      if (parsed && "suffix" in parsed) {
        const info = await store.head(key);
        if (info && (parsed.suffix === 0 || info.size === 0)) throw new RangeNotSatisfiable("empty suffix range", { size: info.size });
        range = info ? resolveSuffix(parsed, info.size) : undefined;
      } else if (parsed) range = parsed;
      const got = await store.get(key, range);
      const headers: Record<string, string> = { ...infoHeaders(got.info), "Content-Type": "application/octet-stream" };
      if (got.range) {
        headers["Content-Range"] = `bytes ${got.range.start}-${got.range.end}/${got.info.size}`;
        headers["Content-Length"] = String(got.range.end - got.range.start + 1);
        return c.body(got.bytes ?? got.body, 206, headers);
      }
      headers["Content-Length"] = String(got.info.size);
      return c.body(got.bytes ?? got.body, 200, headers);
    },
  );

  r.route(
    { method: "delete", path: "/objects/{key...}", summary: "Delete an object", responses: { 204: { description: "Deleted" } } },
    async (c) => {
      const key = c.req.param("key")!;
      if (!(await store.delete(key))) throw new NotFound(`object "${key}" not found`);
      return c.body(null, 204);
    },
  );

  r.route(
    {
      method: "get",
      path: "/objects",
      summary: "List objects under a prefix, in key order, a page at a time",
      query: ListQuery,
      responses: {
        200: { description: "A page", schema: v.object({ items: v.array(ObjectInfoSchema), next_cursor: v.optional(v.string()) }) },
      },
    },
    async (c, { query }) => {
      const page = await store.list(query.prefix, { cursor: query.cursor, limit: query.limit });
      return c.json({ items: page.items.map(infoJson), ...(page.cursor ? { next_cursor: page.cursor } : {}) });
    },
  );

  return r;
}
