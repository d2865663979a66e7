/**
 * The model's weights for the page: downloaded once with progress (the response body read chunk by
 * chunk through its ReadableStream, against its Content-Length), then kept with the Cache API, so
 * a later visit reads them from the browser's cache instead of the network; the page says which.
 * The cache's name carries WEIGHTS_CACHE_VERSION: shipping different weights at the same URL means
 * raising it, and caches of other versions are deleted when the page starts. Where the Cache API
 * is missing (an insecure origin) or refuses to store (quota), the page still works: it downloads.
 */
import { fetchOk } from "./assets";

/** Raise when the shipped weights change, so that no visitor keeps the old ones. */
export const WEIGHTS_CACHE_VERSION = 1;
const CACHE_PREFIX = "funit-weights-v";
export const WEIGHTS_CACHE = `${CACHE_PREFIX}${WEIGHTS_CACHE_VERSION}`;

export interface WeightsProgress {
  loaded: number;
  /** From Content-Length; null when the server did not send it. */
  total: number | null;
}

export interface PageWeights {
  bytes: ArrayBuffer;
  /** True when they came from the Cache API, not the network. */
  fromCache: boolean;
  /** True when they are in the cache now (false where it is missing or refused them). */
  cached: boolean;
}

/** The Cache API's cache for this version, after deleting other versions'; null without one. */
async function openWeightsCache(): Promise<Cache | null> {
  if (!("caches" in globalThis)) return null;
  try {
    const stale = (await caches.keys()).filter(
      (name) => name.startsWith(CACHE_PREFIX) && name !== WEIGHTS_CACHE,
    );
    await Promise.all(stale.map((name) => caches.delete(name)));
    return await caches.open(WEIGHTS_CACHE);
  } catch {
    return null; // e.g. storage disabled: download every time
  }
}

/** The whole body, reporting progress after every chunk. */
async function readWithProgress(
  res: Response,
  onProgress: (p: WeightsProgress) => void,
): Promise<Uint8Array> {
  const total = Number(res.headers.get("content-length")) || null;
  if (!res.body) return new Uint8Array(await res.arrayBuffer());
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.byteLength;
    onProgress({ loaded, total });
  }
  const bytes = new Uint8Array(loaded);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}

/** The weights at `url`: from the cache when they are there, else downloaded and then cached. */
export async function loadWeights(
  url: string,
  onProgress: (p: WeightsProgress) => void = () => {},
): Promise<PageWeights> {
  const request = new Request(new URL(url, document.baseURI));
  const cache = await openWeightsCache();
  const cached = await cache?.match(request).catch(() => undefined);
  if (cached) return { bytes: await cached.arrayBuffer(), fromCache: true, cached: true };
  const bytes = await readWithProgress(await fetchOk(request.url), onProgress);
  const copy = new Response(bytes.slice(), {
    headers: { "content-type": "application/octet-stream" },
  });
  // over quota or no cache: the next visit downloads again
  const stored = cache
    ? await cache.put(request, copy).then(
        () => true,
        () => false,
      )
    : false;
  return { bytes: bytes.buffer as ArrayBuffer, fromCache: false, cached: stored };
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(1);

/** "Downloading the model: 1.2 of 5.0 MB (24%)". */
export function progressText({ loaded, total }: WeightsProgress): string {
  return total
    ? `Downloading the model: ${mb(loaded)} of ${mb(total)} MB (${Math.floor((loaded / total) * 100)}%)`
    : `Downloading the model: ${mb(loaded)} MB`;
}

/** Loads the weights and keeps `line` saying how: download progress, then its source and size. */
export async function loadWeightsShown(url: string, line: HTMLElement): Promise<ArrayBuffer> {
  line.textContent = "Model: looking in the browser's cache…";
  const { bytes, fromCache, cached } = await loadWeights(url, (p) => {
    line.textContent = progressText(p);
  });
  const size = `${mb(bytes.byteLength)} MB`;
  line.textContent = fromCache
    ? `Model: ${size} from cache (${WEIGHTS_CACHE})`
    : `Model: ${size} downloaded` + (cached ? ", kept in the browser's cache" : "");
  return bytes;
}
