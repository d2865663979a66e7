/**
 * Funit.create's model sources: an ArrayBuffer, typed-array and DataView views (a subarray at an
 * offset too), a Blob, a Response and a URL or URL string (served over http by a local server
 * that sends the file in chunks) each load the same model, with onProgress reporting bytes as
 * they arrive; an aborted signal stops a download with its reason; a server error, an oversized
 * declared length and an unknown source type are InputErrors before anything reaches the GPU.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Funit } from "../src/engine";
import { InputError } from "../src/errors";
import { LIMITS } from "../src/limits";
import { loadWeightsBytes, type LoadProgress } from "../src/load";
import { readTensors } from "./helpers/fixtures";
import { withDevice } from "./helpers/gpu";

const TINY = new Uint8Array(readFileSync("test/fixtures/tiny-a/gen_test.safetensors"));
const { tensors } = readTensors("test/fixtures/tiny-a/expected.safetensors");
const CHUNK = 4096;

let server: Server;
let base: string;
/** Lets a test hold the server's answer half-way (the abort case). */
let pauseAfterFirstChunk: Promise<void> | undefined;

beforeAll(async () => {
  server = createServer(async (req, res) => {
    if (req.url === "/missing") {
      res.writeHead(404).end();
      return;
    }
    if (req.url === "/huge") {
      res.writeHead(200, { "content-length": String(LIMITS.maxWeightsFileBytes + 1) });
      res.write(TINY.subarray(0, 16));
      return; // never ends: the client must refuse from the header alone
    }
    const headers: Record<string, string> = {};
    if (req.url !== "/no-length") headers["content-length"] = String(TINY.length);
    res.writeHead(200, headers);
    for (let i = 0; i < TINY.length; i += CHUNK) {
      res.write(TINY.subarray(i, i + CHUNK));
      if (i === 0 && pauseAfterFirstChunk) await pauseAfterFirstChunk;
      await new Promise((r) => setImmediate(r));
    }
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe("model sources", () => {
  it("every source type gives the same bytes, with progress", async () => {
    const offset = new Uint8Array(TINY.length + 8);
    offset.set(TINY, 8);
    const sources: [string, unknown][] = [
      ["ArrayBuffer", TINY.slice().buffer],
      ["Uint8Array at an offset", offset.subarray(8)],
      ["DataView", new DataView(offset.buffer, 8, TINY.length)],
      ["Blob", new Blob([TINY])],
      ["Response", new Response(TINY, { headers: { "content-length": String(TINY.length) } })],
      ["Response without a length", new Response(TINY)],
      ["URL", new URL("/weights", base)],
      ["URL string", `${base}/weights`],
      ["URL without a length", `${base}/no-length`],
    ];
    for (const [what, source] of sources) {
      const seen: LoadProgress[] = [];
      const bytes = await loadWeightsBytes(source as Blob, { onProgress: (p) => seen.push(p) });
      // (Buffer.equals: toEqual walks 400 KB element by element, seconds a source)
      expect(Buffer.from(bytes as Uint8Array).equals(TINY), what).toBe(true);
      expect(seen.at(-1)!.loaded, what).toBe(TINY.length);
      const loaded = seen.map((p) => p.loaded);
      expect(loaded, what).toEqual([...loaded].sort((a, b) => a - b));
      expect(seen.at(-1)!.total, what).toBe(
        what.endsWith("without a length") ? undefined : TINY.length,
      );
      if (what.startsWith("URL")) expect(seen.length, what).toBeGreaterThan(1); // streamed
    }
  });

  it("Funit.create loads from an ArrayBuffer and from a URL and translates alike", async () => {
    await withDevice(async (device) => {
      const fromBuffer = await Funit.create(device, TINY.slice().buffer);
      const progress: LoadProgress[] = [];
      const fromUrl = await Funit.create(device, `${base}/weights`, {
        onProgress: (p) => progress.push(p),
      });
      try {
        const content = tensors.get("content")!;
        const classImages = tensors.get("class_images")!;
        const a = await fromBuffer.translateTensor(content, classImages);
        const b = await fromUrl.translateTensor(content, classImages);
        expect(b.data).toEqual(a.data);
        expect(progress.at(-1)).toEqual({ loaded: TINY.length, total: TINY.length });
      } finally {
        fromBuffer.dispose();
        fromUrl.dispose();
      }
    });
  });

  it("an abort during the download rejects with the signal's reason", async () => {
    let release!: () => void;
    pauseAfterFirstChunk = new Promise((r) => (release = r));
    const controller = new AbortController();
    const reason = new Error("user left the page");
    const seen: LoadProgress[] = [];
    const load = loadWeightsBytes(`${base}/weights`, {
      signal: controller.signal,
      onProgress: (p) => {
        seen.push(p);
        controller.abort(reason); // after the first chunk
      },
    });
    await expect(load).rejects.toBe(reason);
    release();
    pauseAfterFirstChunk = undefined;
    expect(seen).toHaveLength(1);
    await expect(
      Funit.create(() => Promise.reject(new Error("never asked")), TINY, {
        signal: AbortSignal.abort(reason),
      }),
    ).rejects.toBe(reason);
  });

  it("refuses unknown types, HTTP errors and oversized lengths with an InputError", async () => {
    for (const bad of [42, null, {}, [1, 2, 3], Symbol("w")]) {
      await expect(loadWeightsBytes(bad as unknown as Blob)).rejects.toThrow(InputError);
    }
    await expect(loadWeightsBytes({ bytes: 1 } as unknown as Blob)).rejects.toThrow(
      /expected an ArrayBuffer, ArrayBufferView, Blob, Response, URL or URL string.*got Object/,
    );
    await expect(loadWeightsBytes(`${base}/missing`)).rejects.toThrow(/answered HTTP 404/);
    await expect(loadWeightsBytes(`${base}/huge`)).rejects.toThrow(
      /too large \(limit maxWeightsFileBytes = 268435456\)/,
    );
    await expect(loadWeightsBytes("http://127.0.0.1:1/none")).rejects.toThrow(
      /could not fetch http:\/\/127.0.0.1:1\/none/,
    );
    await withDevice(async (device) => {
      await expect(Funit.create(device, 42 as unknown as Blob)).rejects.toThrow(InputError);
      await expect(Funit.create({} as GPUDevice, TINY)).rejects.toThrow(/expected a GPUDevice/);
    });
  });
});
