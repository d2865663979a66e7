/**
 * Glyph atlases: character-list parsing, cell cutting checked against the PyTorch reference files
 * (their content, class and target tensors were rendered from the same fonts, so the atlas cells
 * must reproduce them), reference-glyph choice, missing-syllable errors and grid composition; the
 * shipped files located by shippedAssetUrl (from src/ and from each built bundle), fetchAtlas over
 * http against readAtlas from files, and their refusals.
 */
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  composeGrid,
  cutCell,
  glyphOf,
  makeAtlas,
  missingChars,
  parseCharList,
  pickReferenceChars,
  tintPaper,
} from "../src/glyphs";
import {
  loadSourceAtlas,
  loadUnseenAtlas,
  packageRoot,
  readAtlas,
  shippedAssetPath,
} from "../src/node/assets";
import { SOURCE_ATLAS, UNSEEN_FONTS, unseenAtlasFiles } from "../src/glyphs";
import { fetchAtlas, shippedAssetUrl, SHIPPED_GLYPHS, SHIPPED_MODEL } from "../src/shipped";
import { decodeImage, encodePng } from "../src/node/images";
import { parseSafetensors, tensorToFloat32 } from "../src/safetensors";
import { imagesToTensor, maxAbsError, type ImageRGBA } from "../src/tensor";
import { InputError } from "../src/errors";

function solid(w: number, h: number, v: number): ImageRGBA {
  return {
    width: w,
    height: h,
    data: new Uint8Array(w * h * 4).fill(v).map((x, i) => (i % 4 === 3 ? 255 : x)),
  };
}

describe("character lists", () => {
  it("reads one long line or one character per line, by code point", () => {
    expect(parseCharList("가각간\n", "a")).toEqual(["가", "각", "간"]);
    expect(parseCharList("가\n각\r\n간\n", "b")).toEqual(["가", "각", "간"]);
    expect(() => parseCharList("가각가", "c")).toThrow(/'가' appears twice/);
  });

  it("the shipped lists hold 2,350 and 600 syllables", async () => {
    const source = await loadSourceAtlas();
    expect(source.chars.length).toBe(2350);
    expect(source.chars[0]).toBe("가");
    const unseen = await loadUnseenAtlas("Bandal");
    expect(unseen.chars.length).toBe(600);
  });
});

describe("atlas cells", () => {
  it("reproduce the content, class and target tensors of every PyTorch reference file", async () => {
    const source = await loadSourceAtlas();
    for (const font of UNSEEN_FONTS) {
      const file = parseSafetensors(
        new Uint8Array(readFileSync(`${packageRoot()}/test/fixtures/hangul64/${font}.safetensors`)),
      );
      const atlas = await loadUnseenAtlas(font);
      const { content_chars, class_chars } = file.metadata as {
        content_chars: string;
        class_chars: string;
      };
      const checks: [string, ImageRGBA[]][] = [
        ["content", [...content_chars].map((ch) => glyphOf(source, ch))],
        ["class_images", [...class_chars].map((ch) => glyphOf(atlas, ch))],
        ["target", [...content_chars].map((ch) => glyphOf(atlas, ch))],
      ];
      for (const [name, glyphs] of checks) {
        const want = tensorToFloat32(name, file.tensors.get(name)!);
        const got = imagesToTensor(glyphs, name).data;
        expect(maxAbsError(got, want), `${font} ${name}`).toBeLessThan(1e-6);
      }
    }
  });

  it("cut the right cell of a small synthetic atlas", () => {
    // 3 cells a row, 2x2 cells, value = 10 * cell index.
    const image = { width: 6, height: 4, data: new Uint8Array(6 * 4 * 4) };
    for (let y = 0; y < 4; y++)
      for (let x = 0; x < 6; x++)
        image.data.fill(
          10 * (Math.floor(y / 2) * 3 + Math.floor(x / 2)),
          (y * 6 + x) * 4,
          (y * 6 + x) * 4 + 4,
        );
    const atlas = makeAtlas(image, ["a", "b", "c", "d", "e"], 2, 3, "test atlas");
    expect(Array.from(cutCell(atlas, 4).data)).toEqual(Array(16).fill(40));
    expect(() => cutCell(atlas, 5)).toThrow(InputError);
    expect(() => makeAtlas(image, "abcdefg".split(""), 2, 3, "small")).toThrow(
      /small: image is 6x4/,
    );
  });

  it("name a missing syllable", async () => {
    const source = await loadSourceAtlas();
    expect(() => glyphOf(source, "똠")).toThrow(/no glyph for '똠' \(U\+B620\)/);
    expect(missingChars(source, "퓨샷 폰트 똠똠 A")).toEqual(["똠", "A"]);
  });
});

describe("demo helpers", () => {
  it("pick the preferred never-trained references, else the first of the held-out block", async () => {
    const { chars } = await loadUnseenAtlas("hline");
    expect(pickReferenceChars(chars, "쿤쿳퀄퀴큄", 100, 5).join("")).toBe("쿤쿳퀄퀴큄");
    expect(pickReferenceChars(chars, "가각간갇갈", 100, 5)).toEqual(chars.slice(500, 505));
  });

  it("compose a grid with blank cells and tint paper but not ink", () => {
    const grid = composeGrid(
      [
        [solid(2, 2, 0), null],
        [null, solid(2, 2, 100)],
      ],
      2,
      2,
    );
    expect([grid.width, grid.height]).toEqual([4, 4]);
    const px = (x: number, y: number) => grid.data[(y * 4 + x) * 4];
    expect([px(0, 0), px(3, 0), px(0, 3), px(3, 3)]).toEqual([0, 255, 255, 100]);
    expect(() => composeGrid([[solid(3, 2, 0)]], 2, 2)).toThrow(InputError);
    const tinted = tintPaper(
      { width: 2, height: 1, data: new Uint8Array([255, 255, 255, 255, 0, 0, 0, 255]) },
      [200, 220, 240],
    );
    expect(Array.from(tinted.data)).toEqual([200, 220, 240, 255, 0, 0, 0, 255]);
  });
});

describe("the shipped files, located and loaded from any runtime", () => {
  it("shippedAssetUrl finds the model and atlases from src/ and from the built dist/ bundles", async () => {
    const model = shippedAssetUrl(SHIPPED_MODEL);
    expect(fileURLToPath(model)).toBe(shippedAssetPath(SHIPPED_MODEL));
    expect(statSync(model).size).toBeGreaterThan(1e6);
    expect(existsSync(shippedAssetUrl(SHIPPED_GLYPHS + SOURCE_ATLAS.image))).toBe(true);
    // the bundles' copies of the function sit in dist/ and dist/browser/: same files
    execFileSync(process.execPath, ["scripts/build.mjs"], { cwd: packageRoot(), stdio: "pipe" });
    for (const bundle of ["dist/index.js", "dist/node.js", "dist/browser/funit.js"]) {
      const built = await import(pathToFileURL(join(packageRoot(), bundle)).href);
      expect(built.shippedAssetUrl(SHIPPED_MODEL).href, bundle).toBe(model.href);
    }
  }, 120_000);

  it("fetchAtlas over http equals readAtlas from files; a missing file or decoder is an InputError", async () => {
    const dir = join(packageRoot(), SHIPPED_GLYPHS);
    const server = createServer((req, res) => {
      const path = join(dir, decodeURIComponent(new URL(req.url!, "http://x").pathname));
      if (!path.startsWith(dir) || !existsSync(path)) return res.writeHead(404).end();
      res.end(readFileSync(path));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      const files = unseenAtlasFiles("NanumPen");
      const [fetched, read] = await Promise.all([
        fetchAtlas(files, { base, decode: (bytes, name) => decodeImage(bytes, name) }),
        readAtlas(files),
      ]);
      expect(fetched.chars).toEqual(read.chars);
      expect([fetched.perRow, fetched.cell, fetched.label]).toEqual([25, 64, "NanumPen atlas"]);
      const bytes = ({ data }: ImageRGBA) => Buffer.from(data.buffer, data.byteOffset, data.length);
      expect(Buffer.compare(bytes(fetched.image), bytes(read.image))).toBe(0);
      expect(glyphOf(fetched, "쿤").data).toEqual(glyphOf(read, "쿤").data);
      await expect(
        fetchAtlas({ ...files, image: "none.png" }, { base, decode: decodeImage }),
      ).rejects.toThrow(InputError);
      // Node has no OffscreenCanvas: the default decoder is refused before any fetch
      await expect(fetchAtlas(files, { base })).rejects.toThrow(/pass options.decode/);
    } finally {
      server.close();
    }
  });

  it("readAtlas refuses an image too small for its character list", async () => {
    const dir = mkdtempSync(join(tmpdir(), "funit-atlas-"));
    writeFileSync(join(dir, "a.png"), encodePng(solid(128, 64, 255)));
    writeFileSync(join(dir, "a.txt"), "가각간");
    const files = { image: "a.png", chars: "a.txt", perRow: 2, label: "tiny atlas" };
    await expect(readAtlas(files, dir)).rejects.toThrow(/tiny atlas: image is 128x64/);
    writeFileSync(join(dir, "a.txt"), "가각");
    expect((await readAtlas(files, dir)).chars).toEqual(["가", "각"]);
  });
});
