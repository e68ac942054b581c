// The storage operations, /v1/storage: raw object access, streaming both ways, Range honoured on
// GET. They see the store through publicStore, so the lakehouse's own state is read-only here.
import * as v from "valibot";
import { NotFound } from "../errors.ts";
import { queryInt } from "../http/body.ts";
import { named } from "../ops/openapi.ts";
import { type AnyOperation, op, type StreamOut } from "../ops/operation.ts";
import { type CappedStore, getObject, putObject } from "./objects.ts";
import { MAX_LIST_LIMIT, type ObjectInfo } from "./store.ts";

const ObjectInfoSchema = named("ObjectInfo", v.object({ key: v.string(), size: v.number(), etag: v.string(), last_modified: v.string() }));
type ObjectInfoJson = v.InferOutput<typeof ObjectInfoSchema>;

const infoJson = (i: ObjectInfo): ObjectInfoJson => ({ key: i.key, size: i.size, etag: i.etag, last_modified: i.lastModified.toISOString() });

function infoHeaders(info: { etag: string; last_modified: string }): Record<string, string> {
  return { ETag: `"${info.etag}"`, "Last-Modified": new Date(info.last_modified).toUTCString(), "Accept-Ranges": "bytes" };
}

/** A read: the bytes, and what the response headers say about them. */
export interface ObjectRead extends StreamOut {
  info: ObjectInfoJson;
  /** The range served, inclusive, when one was asked for. */
  range?: { start: number; end: number };
}

const KeyParam = v.object({ key: v.pipe(v.string(), v.description("Object key; may hold /")) });
const ListQuery = v.object({
  prefix: v.optional(v.string(), ""),
  cursor: v.optional(v.string()),
  limit: v.optional(queryInt(1, MAX_LIST_LIMIT)),
});
// Over HTTP the header's value ("*" asks for create-only; an entity tag is ignored); in-process a boolean.
const PutHeaders = v.object({
  only_if_absent: v.optional(
    v.pipe(
      v.union([
        v.boolean(),
        v.pipe(
          v.string(),
          v.transform((s) => s.trim() === "*"),
        ),
      ]),
      v.description('Create only if absent: the header "If-None-Match: *" over HTTP, true in-process'),
    ),
    false,
  ),
});
const RangeHeader = v.object({
  range: v.optional(v.pipe(v.string(), v.description("bytes=a-b, bytes=a- or bytes=-n; anything else reads the whole object"))),
});
const notFound = { not_found: "No such object" };

export function storageOperations(store: CappedStore): AnyOperation[] {
  return [
    op({
      name: "storage.put",
      method: "put",
      path: "/v1/storage/objects/{key...}",
      tag: "storage",
      summary: "Write an object (atomic replace). With If-None-Match: * it is created only if absent (409 otherwise).",
      params: KeyParam,
      headers: PutHeaders,
      stream: { contentTypes: ["application/octet-stream", "*/*"], description: "Object bytes, streamed." },
      result: ObjectInfoSchema,
      errors: {
        validation_failed: "An input failed validation, or the key is not a valid object key; details names the field",
        reserved_prefix: "The key is under a prefix the lakehouse manages",
        conflict: "If-None-Match: * and the object exists",
        too_large: "The body is over the cap for the key's prefix",
      },
      http: { headers: { only_if_absent: "if-none-match" }, status: 201, statuses: { 201: "Stored" } },
      handler: async ({ key, only_if_absent, stream }) => infoJson(await putObject(store, key, stream!, only_if_absent)),
    }),
    op({
      name: "storage.get",
      method: "get",
      path: "/v1/storage/objects/{key...}",
      tag: "storage",
      summary: "Read an object, or a byte range of it (Range: bytes=a-b, a-, -n).",
      params: KeyParam,
      headers: RangeHeader,
      result: "stream",
      produces: ["application/octet-stream"],
      errors: { ...notFound, range_not_satisfiable: "The range starts past the end of the object" },
      http: {
        headers: { range: "range" },
        status: (r: ObjectRead) => (r.range ? 206 : 200),
        statuses: { 200: "The object", 206: "The requested range" },
        responseHeaders: (r: ObjectRead) =>
          r.range ? { ...infoHeaders(r.info), "Content-Range": `bytes ${r.range.start}-${r.range.end}/${r.info.size}` } : infoHeaders(r.info),
      },
      handler: async ({ key, range }): Promise<ObjectRead> => {
        const got = await getObject(store, key, range);
        return {
          body: got.bytes ?? got.body,
          contentType: "application/octet-stream",
          length: got.range ? got.range.end - got.range.start + 1 : got.info.size,
          info: infoJson(got.info),
          ...(got.range ? { range: got.range } : {}),
        };
      },
    }),
    op({
      name: "storage.head",
      method: "head",
      path: "/v1/storage/objects/{key...}",
      tag: "storage",
      summary: "An object's headers (ETag, Last-Modified, Content-Length) without its bytes; 404 without a body when missing.",
      params: KeyParam,
      result: ObjectInfoSchema,
      errors: notFound,
      http: {
        statuses: { 200: "The object exists" },
        responseHeaders: (info: ObjectInfoJson) => ({ ...infoHeaders(info), "Content-Length": String(info.size) }),
      },
      handler: async ({ key }) => {
        const info = await store.head(key);
        if (!info) throw new NotFound(`object "${key}" not found`);
        return infoJson(info);
      },
    }),
    op({
      name: "storage.delete",
      method: "delete",
      path: "/v1/storage/objects/{key...}",
      tag: "storage",
      summary: "Delete an object",
      params: KeyParam,
      errors: { ...notFound, reserved_prefix: "The key is under a prefix the lakehouse manages" },
      http: { status: 204, statuses: { 204: "Deleted" } },
      handler: async ({ key }) => {
        if (!(await store.delete(key))) throw new NotFound(`object "${key}" not found`);
      },
    }),
    op({
      name: "storage.list",
      method: "get",
      path: "/v1/storage/objects",
      tag: "storage",
      summary: "List objects under a prefix, in key order, a page at a time",
      query: ListQuery,
      result: v.object({ items: v.array(ObjectInfoSchema), next_cursor: v.optional(v.string()) }),
      errors: { validation_failed: "An input failed validation, or the prefix is not a valid key prefix; details names the field" },
      handler: async ({ prefix, cursor, limit }) => {
        const page = await store.list(prefix, { cursor, limit });
        return { items: page.items.map(infoJson), ...(page.cursor ? { next_cursor: page.cursor } : {}) };
      },
    }),
  ];
}
