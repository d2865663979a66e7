/**
 * Image I/O of the Node CLI: PNG and JPEG decoding (by magic bytes, with clear errors for anything
 * else or anything damaged), alpha flattening, the PIL-exact bilinear resize (against values Pillow
 * 12 produced and against a plain floating-point reading of PIL's algorithm), PNG encoding, and the
 * atomic write that leaves nothing behind on failure.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import jpeg from "jpeg-js";
import { PNG } from "pngjs";
import { type ImageRGBA } from "../src/tensor";
import {
  checkOutputTarget,
  decodeImage,
  encodePng,
  flattenOnWhite,
  readImageFile,
  readImageFileHeader,
  readImageHeader,
  resizeBilinear,
  sniffImageFormat,
  writeFileAtomic,
  writeFilesAtomic,
} from "../src/node/images";
import { execFileSync } from "node:child_process";
import { lstatSync, symlinkSync } from "node:fs";
import { jpegWith, pngClaiming } from "./helpers/hostile-files";
import { InputError } from "../src/errors";

function randomImage(width: number, height: number, seed: number, opaque = false): ImageRGBA {
  const data = new Uint8Array(width * height * 4);
  let s = seed >>> 0;
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = opaque && i % 4 === 3 ? 255 : s >>> 24;
  }
  return { width, height, data };
}

function smoothImage(width: number, height: number): ImageRGBA {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 4;
      data.set([(x * 255) / (width - 1), (y * 255) / (height - 1), 128, 255].map(Math.round), p);
    }
  }
  return { width, height, data };
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "funit-images-"));
}

function expectInputError(f: () => unknown, pattern: RegExp): void {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).toMatch(pattern);
    return;
  }
  throw new Error("expected an InputError");
}

describe("decoding", () => {
  it("round-trips RGBA and opaque images through PNG", () => {
    for (const opaque of [false, true]) {
      const img = randomImage(13, 7, 42, opaque);
      const bytes = encodePng(img);
      expect(sniffImageFormat(bytes)).toBe("png");
      const back = decodeImage(bytes, "x.png");
      expect([back.width, back.height]).toEqual([13, 7]);
      expect(Array.from(back.data)).toEqual(Array.from(img.data));
    }
  });

  it("writes opaque images as 8-bit RGB PNGs", () => {
    const png = PNG.sync.read(Buffer.from(encodePng(randomImage(4, 4, 1, true))));
    expect(png.colorType).toBe(2);
  });

  it("turns grey PNGs into RGBA with R = G = B", () => {
    const png = new PNG({
      width: 3,
      height: 2,
      colorType: 0,
      inputColorType: 0,
    } as ConstructorParameters<typeof PNG>[0]);
    const grey = [0, 50, 100, 150, 200, 255];
    png.data = Buffer.from(grey.flatMap((v) => [v, v, v, 255]));
    const bytes = PNG.sync.write(png, { colorType: 0 });
    expect(PNG.sync.read(bytes).colorType).toBe(0);
    const img = decodeImage(new Uint8Array(bytes), "grey.png");
    expect(Array.from(img.data)).toEqual(grey.flatMap((v) => [v, v, v, 255]));
  });

  it("decodes JPEG (opaque RGBA, close to the original at quality 100)", () => {
    const img = smoothImage(24, 16);
    const bytes = new Uint8Array(
      jpeg.encode({ width: 24, height: 16, data: Buffer.from(img.data) }, 100).data,
    );
    expect(sniffImageFormat(bytes)).toBe("jpeg");
    const back = decodeImage(bytes, "x.jpg");
    expect([back.width, back.height]).toEqual([24, 16]);
    let maxErr = 0;
    for (let i = 0; i < img.data.length; i++)
      maxErr = Math.max(maxErr, Math.abs(back.data[i]! - img.data[i]!));
    expect(maxErr).toBeLessThanOrEqual(8);
    for (let p = 3; p < back.data.length; p += 4) expect(back.data[p]).toBe(255);
  });

  it("detects the format by content, not by the file name", async () => {
    const dir = tempDir();
    const path = join(dir, "actually-a-png.jpg");
    writeFileSync(path, encodePng(randomImage(5, 5, 3)));
    expect((await readImageFile(path)).width).toBe(5);
  });

  it("gives clear errors for other formats and for damaged files", () => {
    const png = encodePng(smoothImage(32, 32));
    const jpg = new Uint8Array(
      jpeg.encode({ width: 32, height: 32, data: Buffer.from(smoothImage(32, 32).data) }, 90).data,
    );
    expectInputError(
      () => decodeImage(new Uint8Array(0), "empty.png"),
      /empty\.png: not a PNG or JPEG/,
    );
    expectInputError(
      () => decodeImage(new TextEncoder().encode("GIF89a......"), "a.gif"),
      /a\.gif: not a PNG or JPEG/,
    );
    expectInputError(
      () => decodeImage(png.subarray(0, png.length - 30), "cut.png"),
      /cut\.png: corrupt or truncated PNG/,
    );
    expectInputError(
      () => decodeImage(png.subarray(0, 20), "head.png"),
      /head\.png: corrupt or truncated PNG/,
    );
    const badCrc = png.slice();
    badCrc[30] = badCrc[30]! ^ 0xff; // inside IHDR: its CRC no longer matches
    expectInputError(() => decodeImage(badCrc, "crc.png"), /crc\.png: corrupt or truncated PNG/);
    expectInputError(
      () => decodeImage(jpg.subarray(0, jpg.length / 2), "cut.jpg"),
      /cut\.jpg: corrupt or truncated JPEG/,
    );
    expectInputError(
      () => decodeImage(jpg.subarray(0, 3), "magic.jpg"),
      /magic\.jpg: corrupt or truncated JPEG/,
    );
  });

  it("names missing files and directories", async () => {
    const dir = tempDir();
    await expect(readImageFile(join(dir, "nope.png"))).rejects.toThrow(
      /cannot read image .*nope\.png: no such file/,
    );
    await expect(readImageFile(dir)).rejects.toThrow(/is a directory/);
  });
});

describe("sizes from headers and the pixel limit (before decoding)", () => {
  it("reads the size of PNGs and JPEGs, also past large metadata segments", async () => {
    expect(readImageHeader(encodePng(randomImage(7, 5, 3)))).toEqual({
      format: "png",
      width: 7,
      height: 5,
    });
    expect(readImageHeader(jpegWith(0))).toEqual({ format: "jpeg", width: 16, height: 8 });
    // 300 KB of APP1 segments push the frame header past the first 256 KiB the CLI probes
    const dir = mkdtempSync(join(tmpdir(), "funit-hdr-"));
    writeFileSync(join(dir, "meta.jpg"), jpegWith(300_000));
    expect(await readImageFileHeader(join(dir, "meta.jpg"))).toEqual({
      format: "jpeg",
      width: 16,
      height: 8,
    });
    expect(readImageHeader(new TextEncoder().encode("GIF89a"))).toBeNull();
    expect(readImageHeader(jpegWith(0).subarray(0, 4))).toBeNull();
  });

  it("refuses a 20000x20000 PNG as too large, naming the limit, without inflating it", async () => {
    const bomb = pngClaiming(20000, 20000);
    expect(bomb.byteLength).toBeLessThan(200);
    expect(() => decodeImage(bomb, "bomb.png")).toThrow(
      /bomb\.png: PNG image is 20000x20000 = 400000000 pixels: too large \(limit maxImagePixels/,
    );
    const dir = mkdtempSync(join(tmpdir(), "funit-hdr-"));
    writeFileSync(join(dir, "bomb.png"), bomb);
    await expect(readImageFileHeader(join(dir, "bomb.png"))).rejects.toThrow(/too large/);
  });

  it("says a JPEG above the limit is too large, not corrupt or truncated", () => {
    let message = "";
    try {
      decodeImage(jpegWith(0, [8000, 8000]), "big.jpg");
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      message = (e as Error).message;
    }
    expect(message).toMatch(/big\.jpg: JPEG image is 8000x8000 = 64000000 pixels: too large/);
    expect(message).not.toMatch(/corrupt|truncated/);
  });

  it("refuses a header that declares an empty image", () => {
    expect(() => decodeImage(pngClaiming(0, 5), "empty.png")).toThrow(/empty 0x5 image/);
  });
});

describe("output targets", () => {
  it("accepts a missing path or a regular file and refuses a FIFO, a symlink or a directory", async () => {
    const dir = mkdtempSync(join(tmpdir(), "funit-out-"));
    await expect(checkOutputTarget(join(dir, "new.png"))).resolves.toBeUndefined();
    writeFileSync(join(dir, "old.png"), "old");
    await expect(checkOutputTarget(join(dir, "old.png"))).resolves.toBeUndefined();
    execFileSync("mkfifo", [join(dir, "fifo.png")]);
    await expect(checkOutputTarget(join(dir, "fifo.png"))).rejects.toThrow(
      /cannot write .*fifo\.png: it exists and is a FIFO, not a regular file/,
    );
    symlinkSync(join(dir, "old.png"), join(dir, "link.png"));
    await expect(checkOutputTarget(join(dir, "link.png"))).rejects.toThrow(/a symbolic link/);
    await expect(checkOutputTarget(dir)).rejects.toThrow(/a directory/);
  });

  it("writeFilesAtomic leaves a FIFO in place and no temp file behind", async () => {
    const dir = mkdtempSync(join(tmpdir(), "funit-out-"));
    execFileSync("mkfifo", [join(dir, "o.png")]);
    await expect(
      writeFilesAtomic([{ path: join(dir, "o.png"), bytes: new Uint8Array([1]) }]),
    ).rejects.toThrow(InputError);
    expect(lstatSync(join(dir, "o.png")).isFIFO()).toBe(true);
    expect(readdirSync(dir)).toEqual(["o.png"]);
  });
});

describe("flattenOnWhite", () => {
  it("composites straight alpha onto white", () => {
    const img = {
      width: 3,
      height: 1,
      data: new Uint8Array([10, 20, 30, 255, 0, 0, 0, 0, 0, 100, 200, 128]),
    };
    const flat = flattenOnWhite(img);
    expect(Array.from(flat.data)).toEqual([
      10, 20, 30, 255, 255, 255, 255, 255, 127, 177, 227, 255,
    ]);
  });
});

// --- resize --------------------------------------------------------------------------------------------

/** Pillow 12.3 `Image.frombytes("RGB", (w, h), src).resize((W, H), Image.BILINEAR).tobytes()`. */
const PIL_GOLDEN: Record<string, number[]> = {
  "7x5->3x4": [
    59, 112, 151, 123, 149, 176, 160, 145, 116, 161, 168, 151, 140, 125, 111, 128, 143, 127, 136,
    143, 126, 133, 118, 104, 139, 154, 138, 136, 107, 146, 113, 117, 110, 124, 94, 106,
  ],
  "5x4->9x7": [
    0, 53, 106, 12, 65, 118, 33, 86, 139, 53, 106, 159, 74, 127, 180, 95, 148, 201, 115, 168, 221,
    136, 189, 242, 148, 201, 254, 36, 89, 142, 49, 102, 155, 71, 124, 177, 93, 146, 158, 115, 168,
    130, 137, 139, 152, 149, 120, 173, 120, 143, 196, 103, 156, 209, 94, 147, 200, 109, 162, 215,
    132, 185, 238, 157, 210, 157, 181, 234, 49, 205, 126, 73, 202, 44, 97, 95, 68, 121, 30, 83, 136,
    152, 205, 130, 168, 178, 146, 194, 133, 172, 164, 146, 142, 119, 172, 97, 145, 127, 123, 157,
    97, 135, 113, 123, 90, 86, 139, 64, 191, 244, 59, 208, 182, 76, 236, 79, 105, 160, 81, 126, 56,
    109, 144, 84, 127, 172, 112, 148, 175, 130, 177, 71, 141, 194, 9, 102, 155, 117, 121, 143, 135,
    152, 124, 166, 142, 144, 124, 122, 175, 63, 152, 114, 94, 165, 72, 115, 105, 103, 95, 68, 121,
    83, 47, 100, 153, 66, 119, 172, 99, 152, 205, 131, 184, 123, 163, 216, 13, 195, 106, 45, 199,
    24, 77, 89, 57, 110, 23, 76, 129,
  ],
  "10x3->4x6": [
    37, 90, 143, 120, 173, 195, 152, 113, 94, 52, 93, 146, 64, 114, 153, 125, 155, 172, 139, 123,
    106, 88, 112, 124, 118, 162, 172, 136, 120, 127, 112, 142, 131, 161, 150, 81, 155, 172, 162,
    136, 118, 107, 118, 148, 130, 175, 165, 95, 174, 145, 123, 126, 149, 112, 158, 142, 103, 132,
    156, 168, 183, 131, 103, 121, 164, 115, 178, 139, 90, 110, 151, 204,
  ],
};

/** The golden tests' source image: (x*37 + y*101 + c*53 + x*y*7) mod 256, opaque. */
function formulaImage(w: number, h: number): ImageRGBA {
  const data = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++)
        data[(y * w + x) * 4 + c] = (x * 37 + y * 101 + c * 53 + x * y * 7) % 256;
      data[(y * w + x) * 4 + 3] = 255;
    }
  }
  return { width: w, height: h, data };
}

/**
 * PIL's bilinear resize read plainly: for each output sample, a triangle filter centred on it, as
 * wide as the scale factor when shrinking, weights normalised in floating point, summed over every
 * input sample; horizontal pass rounded to 8 bits, then the vertical pass.
 */
function referenceResize(img: ImageRGBA, W: number, H: number): ImageRGBA {
  const pass = (src: ImageRGBA, outW: number, outH: number, horizontal: boolean): ImageRGBA => {
    const inSize = horizontal ? src.width : src.height;
    const outSize = horizontal ? outW : outH;
    const scale = inSize / outSize;
    const widen = Math.max(scale, 1);
    const out = new Uint8Array(outW * outH * 4);
    for (let y = 0; y < outH; y++) {
      for (let x = 0; x < outW; x++) {
        const o = horizontal ? x : y;
        const center = (o + 0.5) * scale;
        const weights = Array.from({ length: inSize }, (_, i) =>
          Math.max(0, 1 - Math.abs((i + 0.5 - center) / widen)),
        );
        const total = weights.reduce((a, b) => a + b, 0);
        for (let c = 0; c < 4; c++) {
          let sum = 0;
          weights.forEach((w, i) => {
            const [sx, sy] = horizontal ? [i, y] : [x, i];
            sum += (w / total) * src.data[(sy * src.width + sx) * 4 + c]!;
          });
          out[(y * outW + x) * 4 + c] = Math.min(255, Math.max(0, Math.round(sum)));
        }
      }
    }
    return { width: outW, height: outH, data: out };
  };
  let cur = img;
  if (W !== img.width) cur = pass(cur, W, cur.height, true);
  if (H !== img.height) cur = pass(cur, cur.width, H, false);
  return cur;
}

describe("resizeBilinear", () => {
  for (const [name, expected] of Object.entries(PIL_GOLDEN)) {
    it(`matches Pillow exactly: ${name}`, () => {
      const [w, h, W, H] = name.split(/x|->/).map(Number) as [number, number, number, number];
      const out = resizeBilinear(formulaImage(w, h), W, H);
      const rgb = Array.from(out.data).filter((_, i) => i % 4 !== 3);
      expect(rgb).toEqual(expected);
    });
  }

  // Within 2, not 1: both sides round the horizontal pass to 8 bits, and PIL's fixed-point
  // weights can round an intermediate value the other way, so a vertical sum may differ by just
  // over 1 before its own rounding. Pillow 9.4 itself gives our bytes where the float reference is 2
  // off (4×12 → 1×11, seed 351227376, found by this property); exactness is the golden tests' job.
  it("agrees with a plain floating-point PIL bilinear within 2 on random images", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer(),
        (w, h, W, H, seed) => {
          const img = randomImage(w, h, seed);
          const got = resizeBilinear(img, W, H);
          const want = referenceResize(img, W, H);
          expect([got.width, got.height]).toEqual([W, H]);
          for (let i = 0; i < want.data.length; i++)
            expect(Math.abs(got.data[i]! - want.data[i]!)).toBeLessThanOrEqual(2);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("antialiases when shrinking: 1-pixel stripes average out instead of aliasing", () => {
    const stripes = { width: 16, height: 4, data: new Uint8Array(16 * 4 * 4) };
    for (let p = 0; p < 64; p++)
      stripes.data.set(p % 2 ? [255, 255, 255, 255] : [0, 0, 0, 255], p * 4);
    const out = resizeBilinear(stripes, 4, 4);
    for (let p = 1; p < 3; p++) expect(Math.abs(out.data[p * 4]! - 127.5)).toBeLessThan(40);
  });

  it("returns an equal copy at the same size and refuses bad sizes", () => {
    const img = randomImage(5, 3, 9);
    const same = resizeBilinear(img, 5, 3);
    expect(Array.from(same.data)).toEqual(Array.from(img.data));
    expect(same.data).not.toBe(img.data);
    expect(() => resizeBilinear(img, 0, 3)).toThrow(InputError);
    expect(() => resizeBilinear(img, 2.5, 3)).toThrow(InputError);
  });
});

// --- atomic writes -------------------------------------------------------------------------------------

describe("writeFileAtomic", () => {
  it("writes and overwrites whole files, leaving no temp files", async () => {
    const dir = tempDir();
    const path = join(dir, "out.png");
    await writeFileAtomic(path, new Uint8Array([1, 2, 3]));
    await writeFileAtomic(path, new Uint8Array([4, 5]));
    expect(Array.from(readFileSync(path))).toEqual([4, 5]);
    expect(readdirSync(dir)).toEqual(["out.png"]);
  });

  it("leaves nothing when the directory is missing", async () => {
    const dir = tempDir();
    await expect(
      writeFileAtomic(join(dir, "missing", "out.png"), new Uint8Array([1])),
    ).rejects.toThrow(/directory .*missing does not exist/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("removes its temp file when the final rename fails", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, "taken.png")); // a non-empty directory where the file should go
    writeFileSync(join(dir, "taken.png", "keep"), "x");
    await expect(writeFileAtomic(join(dir, "taken.png"), new Uint8Array([1]))).rejects.toThrow(
      InputError,
    );
    expect(readdirSync(dir)).toEqual(["taken.png"]);
  });

  it("writes several files all or nothing", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, "b.png"));
    writeFileSync(join(dir, "b.png", "keep"), "x");
    const files = [
      { path: join(dir, "a.png"), bytes: new Uint8Array([1]) },
      { path: join(dir, "b.png"), bytes: new Uint8Array([2]) },
    ];
    await expect(writeFilesAtomic(files)).rejects.toThrow(InputError);
    expect(readdirSync(dir)).toEqual(["b.png"]);
  });
});
