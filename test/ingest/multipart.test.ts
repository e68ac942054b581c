import { describe, expect, test } from "bun:test";
import { BadRequest } from "../../src/errors.ts";
import { boundaryOf, extractPart } from "../../src/ingest/multipart.ts";

function chunked(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (i >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(i, i + size));
      i += size;
    },
  });
}

async function encode(form: FormData): Promise<{ bytes: Uint8Array; boundary: string }> {
  const req = new Request("http://x/", { method: "POST", body: form });
  const boundary = boundaryOf(req.headers.get("content-type")!);
  return { bytes: new Uint8Array(await req.arrayBuffer()), boundary };
}

async function extract(bytes: Uint8Array, boundary: string, field: string, size: number) {
  const parts: Uint8Array[] = [];
  const info = await extractPart(chunked(bytes, size), boundary, field, async (c) => void parts.push(c.slice()));
  return { info, data: Buffer.concat(parts) };
}

describe("multipart reader", () => {
  // Content that contains boundary-like text and CRLFs must come through byte for byte.
  const payload = new Uint8Array(Buffer.from(`id,name\r\n1,"a\r\n--not-the-boundary"\r\n${"x".repeat(5000)}\r\n-`));

  test.each([1, 7, 64, 100_000])("streams the file field intact in chunks of %p bytes", async (size) => {
    const form = new FormData();
    form.append("note", "hello");
    form.append("file", new Blob([payload], { type: "text/csv" }), "people.csv");
    form.append("after", "bye");
    const { bytes, boundary } = await encode(form);
    const { info, data } = await extract(bytes, boundary, "file", size);
    expect(info).toEqual({ filename: "people.csv", contentType: "text/csv" });
    expect(Buffer.compare(data, Buffer.from(payload))).toBe(0);
  });

  test("returns null when the field is absent", async () => {
    const form = new FormData();
    form.append("other", "x");
    const { bytes, boundary } = await encode(form);
    expect((await extract(bytes, boundary, "file", 10)).info).toBeNull();
  });

  test("a body cut before its closing boundary is a 400", async () => {
    const form = new FormData();
    form.append("file", new Blob([payload]), "a.csv");
    const { bytes, boundary } = await encode(form);
    await expect(extract(bytes.subarray(0, bytes.length - 20), boundary, "file", 10)).rejects.toBeInstanceOf(BadRequest);
  });

  test("boundary parsing", () => {
    expect(boundaryOf('multipart/form-data; boundary="abc def"')).toBe("abc def");
    expect(boundaryOf("multipart/form-data; boundary=xyz; charset=utf-8")).toBe("xyz");
    expect(() => boundaryOf("multipart/form-data")).toThrow(BadRequest);
  });
});
