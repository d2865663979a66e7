/**
 * Getting a model's bytes from whatever a caller holds, in any runtime: an ArrayBuffer or any
 * ArrayBufferView, a Blob (a File from an <input>), a fetch Response, or a URL (object or string)
 * fetched with the platform's fetch. Streams are read chunk by chunk so that `onProgress` can
 * report `{ loaded, total }` (total undefined when the server sends no length) and `signal` can
 * stop the read between chunks; a declared or streamed size above LIMITS.maxWeightsFileBytes is
 * refused before it is all in memory. Anything else is an InputError that says what was given.
 */
import { InputError } from "./errors";
import { LIMITS, limitText } from "./limits";
import type { GeneratorWeights } from "./weights";

/** Where a model's safetensors bytes come from (or already-read weights). */
export type WeightsSource =
  ArrayBuffer | ArrayBufferView | Blob | Response | URL | string | GeneratorWeights;

export interface LoadProgress {
  loaded: number;
  /** Bytes expected in all; undefined when the source does not say (a response without length). */
  total: number | undefined;
}

export interface LoadOptions {
  /** Called as bytes arrive (once for bytes already in memory). */
  onProgress?: (progress: LoadProgress) => void;
  /** Stops a download between chunks (and anything after it), rejecting with `signal.reason`. */
  signal?: AbortSignal;
}

/** True for already-read weights ({ hyper, tensors, … } from readGeneratorWeights). */
export function isGeneratorWeights(x: unknown): x is GeneratorWeights {
  return (
    typeof x === "object" &&
    x !== null &&
    "hyper" in x &&
    (x as { tensors?: unknown }).tensors instanceof Map
  );
}

/** The bytes of a weights source; already-read weights are returned as they are. */
export async function loadWeightsBytes(
  source: WeightsSource,
  opts: LoadOptions = {},
): Promise<Uint8Array | GeneratorWeights> {
  opts.signal?.throwIfAborted();
  if (isGeneratorWeights(source)) return source;
  if (source instanceof ArrayBuffer || isSharedArrayBuffer(source))
    return inMemory(new Uint8Array(source), opts);
  if (ArrayBuffer.isView(source))
    return inMemory(new Uint8Array(source.buffer, source.byteOffset, source.byteLength), opts);
  if (typeof Blob !== "undefined" && source instanceof Blob) {
    checkSize(source.size, "the Blob");
    return readStream(source.stream(), source.size, "the Blob", opts);
  }
  if (typeof Response !== "undefined" && source instanceof Response)
    return readResponse(source, source.url || "the Response", opts);
  if (source instanceof URL || typeof source === "string") {
    const url = String(source);
    let response: Response;
    try {
      response = await fetch(url, { signal: opts.signal });
    } catch (e) {
      opts.signal?.throwIfAborted();
      throw new InputError(`weights: could not fetch ${url}: ${(e as Error).message ?? e}`, {
        cause: e,
      });
    }
    return readResponse(response, url, opts);
  }
  throw new InputError(
    `weights: expected an ArrayBuffer, ArrayBufferView, Blob, Response, URL or URL string ` +
      `(or weights from readGeneratorWeights), got ${describe(source)}`,
  );
}

function isSharedArrayBuffer(x: unknown): x is SharedArrayBuffer {
  return typeof SharedArrayBuffer !== "undefined" && x instanceof SharedArrayBuffer;
}

function inMemory(bytes: Uint8Array, opts: LoadOptions): Uint8Array {
  opts.onProgress?.({ loaded: bytes.byteLength, total: bytes.byteLength });
  return bytes;
}

function checkSize(bytes: number, what: string): void {
  if (bytes > LIMITS.maxWeightsFileBytes)
    throw new InputError(
      `weights: ${what} holds ${bytes} bytes, too large ` +
        `(${limitText("maxWeightsFileBytes", LIMITS.maxWeightsFileBytes)})`,
    );
}

async function readResponse(response: Response, what: string, opts: LoadOptions) {
  if (!response.ok)
    throw new InputError(
      `weights: ${what} answered HTTP ${response.status} ${response.statusText}`,
    );
  const length = response.headers.get("content-length");
  // a compressed body's length is not the decoded length: then the total is unknown
  const encoded = (response.headers.get("content-encoding") ?? "identity") !== "identity";
  const total = length !== null && !encoded ? Number(length) : undefined;
  if (total !== undefined) checkSize(total, what);
  if (!response.body) return inMemory(new Uint8Array(await response.arrayBuffer()), opts);
  return readStream(response.body, total, what, opts);
}

/** Reads a byte stream whole, reporting progress and honouring the signal between chunks. */
async function readStream(
  stream: ReadableStream<Uint8Array>,
  total: number | undefined,
  what: string,
  opts: LoadOptions,
): Promise<Uint8Array> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  try {
    for (;;) {
      opts.signal?.throwIfAborted();
      const { done, value } = await reader.read();
      if (done) break;
      loaded += value.byteLength;
      checkSize(loaded, what);
      chunks.push(value);
      opts.onProgress?.({ loaded, total });
    }
    opts.signal?.throwIfAborted();
  } catch (e) {
    await reader.cancel().catch(() => undefined);
    throw e;
  }
  if (chunks.length === 1) return chunks[0]!;
  const bytes = new Uint8Array(loaded);
  let offset = 0;
  for (const c of chunks) {
    bytes.set(c, offset);
    offset += c.byteLength;
  }
  return bytes;
}

function describe(x: unknown): string {
  if (x === null) return "null";
  if (typeof x !== "object") return typeof x;
  return (x as object).constructor?.name ?? "an object";
}
