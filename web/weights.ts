/**
 * The model's weights for the page: downloaded once with progress (the response body read chunk by
 * chunk by src/load.ts, as Funit.create reads one, against its Content-Length), then kept with the
 * Cache API, so a later visit reads them from the browser's cache instead of the network; the page
 * says which.
 * The cache's name carries WEIGHTS_CACHE_VERSION: shipping different weights at the same URL means
 * raising it, and caches of other versions are deleted when the page starts. Where the Cache API
 * is missing (an insecure origin) or refuses to store (quota), the page still works: it downloads.
 */
import { loadWeightsBytes, type LoadProgress } from "../src/load";
import { fetchOk } from "./assets";

/** Raise when the shipped weights change, so that no visitor keeps the old ones. */
export const WEIGHTS_CACHE_VERSION = 1;
const CACHE_PREFIX = "funit-weights-v";
export const WEIGHTS_CACHE = `${CACHE_PREFIX}${WEIGHTS_CACHE_VERSION}`;

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

/** The weights at `url`: from the cache when they are there, else downloaded and then cached. */
export async function loadWeights(
  url: string,
  onProgress: (p: LoadProgress) => void = () => {},
): Promise<PageWeights> {
  const request = new Request(new URL(url, document.baseURI));
  const cache = await openWeightsCache();
  const cached = await cache?.match(request).catch(() => undefined);
  if (cached) return { bytes: await cached.arrayBuffer(), fromCache: true, cached: true };
  const response = await fetchOk(request.url);
  const bytes = (await loadWeightsBytes(response, { onProgress })) as Uint8Array;
  // the Response copies the bytes (the page may transfer its own to a worker)
  const copy = new Response(bytes as Uint8Array<ArrayBuffer>, {
    headers: { "content-type": "application/octet-stream" },
  });
  // over quota or no cache: the next visit downloads again
  const stored = cache
    ? await cache.put(request, copy).then(
        () => true,
        () => false,
      )
    : false;
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  return {
    bytes: (whole ? bytes : bytes.slice()).buffer as ArrayBuffer,
    fromCache: false,
    cached: stored,
  };
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(1);

/** "Downloading the model: 1.2 of 5.0 MB (24%)". */
export function progressText({ loaded, total }: LoadProgress): string {
  return total
    ? `Downloading the model: ${mb(loaded)} of ${mb(total)} MB ` +
        `(${Math.floor((loaded / total) * 100)}%)`
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
