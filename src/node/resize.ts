/**
 * A resize that reproduces PIL's BILINEAR resample bit for bit: what torchvision's Resize does to
 * the PIL images of the NVlabs test script, antialiasing included when downscaling. PIL resizes in
 * two separable passes (horizontal, then vertical), each with a triangle filter whose support grows
 * with the downscale factor (that is the antialiasing), and 8-bit fixed-point weights with 22
 * fractional bits; the intermediate image is rounded to 8 bits. Each step below mirrors
 * precompute_coeffs / normalize_coeffs_8bpc / ImagingResample{Horizontal,Vertical}_8bpc in
 * Pillow's src/libImaging/Resample.c so the results agree exactly, not just closely.
 */
import { type ImageRGBA } from "../tensor";
import { InputError } from "../errors";

const PRECISION_BITS = 32 - 8 - 2;

interface Coefficients {
  /** First input index used by each output index. */
  start: Int32Array;
  /** Number of input indices used by each output index. */
  count: Int32Array;
  /** Fixed-point weights, `taps` slots per output index. */
  weights: Int32Array;
  taps: number;
}

function bilinearCoefficients(inSize: number, outSize: number): Coefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = 1.0 * filterScale; // the triangle filter's support is 1, widened when shrinking
  const taps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * taps);
  const real = new Float64Array(taps);
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    const lo = Math.max(Math.trunc(center - support + 0.5), 0);
    const n = Math.min(Math.trunc(center + support + 0.5), inSize) - lo;
    let total = 0;
    for (let t = 0; t < n; t++) {
      const x = Math.abs((t + lo - center + 0.5) / filterScale);
      real[t] = x < 1 ? 1 - x : 0;
      total += real[t]!;
    }
    for (let t = 0; t < n; t++) {
      const w = total !== 0 ? real[t]! / total : real[t]!;
      weights[o * taps + t] = Math.trunc(
        w < 0 ? -0.5 + w * (1 << PRECISION_BITS) : 0.5 + w * (1 << PRECISION_BITS),
      );
    }
    start[o] = lo;
    count[o] = n;
  }
  return { start, count, weights, taps };
}

function clip8(acc: number): number {
  const v = acc >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/**
 * One separable pass, along x (horizontal) or along y, over all 4 channels; rounds to 8 bits as PIL
 * does.
 */
function resamplePass(src: ImageRGBA, outW: number, outH: number, horizontal: boolean): ImageRGBA {
  const co = horizontal
    ? bilinearCoefficients(src.width, outW)
    : bilinearCoefficients(src.height, outH);
  const out = new Uint8Array(outW * outH * 4);
  const half = 1 << (PRECISION_BITS - 1);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const o = horizontal ? x : y;
      const lo = co.start[o]!,
        n = co.count[o]!,
        base = o * co.taps;
      for (let c = 0; c < 4; c++) {
        let acc = half;
        for (let t = 0; t < n; t++) {
          const sx = horizontal ? lo + t : x;
          const sy = horizontal ? y : lo + t;
          acc += src.data[(sy * src.width + sx) * 4 + c]! * co.weights[base + t]!;
        }
        out[(y * outW + x) * 4 + c] = clip8(acc);
      }
    }
  }
  return { width: outW, height: outH, data: out };
}

/**
 * Resizes to width × height like PIL's Image.resize(size, BILINEAR) on an 8-bit image: every
 * channel independently (straight alpha; flatten first for PIL's RGB behaviour). Same size returns
 * a copy.
 */
export function resizeBilinear(img: ImageRGBA, width: number, height: number): ImageRGBA {
  if (!(Number.isSafeInteger(width) && Number.isSafeInteger(height) && width > 0 && height > 0)) {
    throw new InputError(`resize: target size ${width}x${height} is not a positive integer size`);
  }
  // Each pass makes a new image: the input is copied only when no pass runs (a large input is not
  // held twice while it is being shrunk).
  let cur = img;
  if (width !== img.width) cur = resamplePass(cur, width, cur.height, true);
  if (height !== img.height) cur = resamplePass(cur, cur.width, height, false);
  return cur === img ? { width, height, data: new Uint8Array(img.data) } : cur;
}
