/**
 * Issue 10's hostile inputs through the built CLI, each in a child process whose peak RSS is
 * measured (test/helpers/measured-cli.ts): a PNG or JPEG whose header claims a huge image, `--size`
 * far too large or not a multiple of 2^n_downs_content, 10,000 content or class images, a FIFO as
 * the output, a checkpoint with a view over a sparse 3.4 GB storage, and pickles of millions of
 * empty dicts. Each must exit 2 with one `funit:` line naming the limit it hit, leave nothing in
 * the output directory, and stay under 300 MB of peak RSS (the whole Node process, Dawn's adapter
 * included where the device's limits are read).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import {
  lstatSync,
  mkdtempSync,
  readdirSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodePng } from "../src/node/images";
import { packageRoot } from "../src/node/assets";
import { runCliMeasured, type MeasuredRun } from "./helpers/measured-cli";
import {
  jpegWith,
  manyDictsPickle,
  pngClaiming,
  smallImage,
  sparseSpanCheckpoint,
} from "./helpers/hostile-files";
import { torchZip } from "./helpers/torch-writers";

const root = packageRoot();
const WEIGHTS = join(root, "test/fixtures/tiny-a/gen_test.safetensors");
const PEAK_RSS_MB = 300;

let dir: string;

function freshDir(): string {
  return mkdtempSync(join(dir, "case-"));
}

/**
 * Exit 2, one `funit:` message matching `pattern`, no stack, bounded memory, only `keep` left in
 * `outDir`.
 */
function expectRefused(r: MeasuredRun, pattern: RegExp, outDir: string, keep: string[] = []) {
  expect(r.status, r.stderr).toBe(2);
  expect(r.stderr).toMatch(/^funit \w+: /m); // Dawn may print warnings of its own first
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stdout).toBe("");
  expect(readdirSync(outDir).sort()).toEqual([...keep].sort());
  expect(r.peakRssMB, `peak RSS ${r.peakRssMB.toFixed(0)} MB`).toBeLessThan(PEAK_RSS_MB);
}

function translate(cwd: string, content: string[], cls: string[], out: string, ...extra: string[]) {
  return runCliMeasured(
    root,
    [
      "translate",
      "--weights",
      WEIGHTS,
      "--content",
      ...content,
      "--class",
      ...cls,
      "--out",
      out,
    ].concat(extra),
    cwd,
  );
}

beforeAll(() => {
  execFileSync(process.execPath, [join(root, "scripts/build.mjs")], { cwd: root, stdio: "pipe" });
  dir = mkdtempSync(join(tmpdir(), "funit-hostile-"));
  writeFileSync(join(dir, "ok32.png"), encodePng(smallImage(32, 32)));
  writeFileSync(join(dir, "ok48.png"), encodePng(smallImage(48, 48)));
  writeFileSync(join(dir, "bomb.png"), pngClaiming(20000, 20000));
  writeFileSync(join(dir, "big.jpg"), jpegWith(0, [8000, 8000]));
});

describe("images and sizes are refused before decoding (items 4, 5)", () => {
  it("a 20000x20000 PNG header, with and without --size", () => {
    for (const extra of [[], ["--size", "64"]]) {
      const out = freshDir();
      expectRefused(
        translate(dir, ["bomb.png"], ["ok32.png"], join(out, "o.png"), ...extra),
        /bomb\.png: PNG image is 20000x20000 = 400000000 pixels: too large \(limit maxImagePixels = 4194304\)/,
        out,
      );
    }
  });

  it("a JPEG above the pixel limit is 'too large', not 'corrupt or truncated'", () => {
    const out = freshDir();
    const r = translate(dir, ["ok32.png"], ["big.jpg"], join(out, "o.png"), "--size", "32");
    expectRefused(r, /big\.jpg: JPEG image is 8000x8000 .*too large \(limit maxImagePixels/, out);
    expect(r.stderr).not.toMatch(/corrupt|truncated/);
  });

  it("--size 100000 and 16384 are too large; --size 30 names the multiple the model needs", () => {
    for (const size of ["100000", "16384"]) {
      const out = freshDir();
      expectRefused(
        translate(dir, ["ok32.png"], ["ok32.png"], join(out, "o.png"), "--size", size),
        new RegExp(`--size is ${size}, too large \\(limit maxSize = 2048\\)`),
        out,
      );
    }
    const out = freshDir();
    const r = translate(dir, ["ok32.png"], ["ok32.png"], join(out, "o.png"), "--size", "30");
    expectRefused(r, /--size 30 is not a multiple of 4: .*try --size 28/, out);
    expect(r.stderr).not.toMatch(/pass --size/);
  });
});

describe("files too large to read (by their size, before reading)", () => {
  it("a 300 MB weights file and a 70 MB image file (sparse)", () => {
    const out = freshDir();
    writeFileSync(join(out, "w.safetensors"), "");
    truncateSync(join(out, "w.safetensors"), 300e6);
    expectRefused(
      runCliMeasured(
        root,
        ["translate", "--weights", "w.safetensors", "--content", join(dir, "ok32.png")].concat([
          "--class",
          join(dir, "ok32.png"),
          "--out",
          "o.png",
        ]),
        out,
      ),
      /weights file w\.safetensors is 300000000 bytes: too large \(limit maxWeightsFileBytes = /,
      out,
      ["w.safetensors"],
    );
    writeFileSync(join(out, "huge.png"), pngClaiming(64, 64));
    truncateSync(join(out, "huge.png"), 70e6);
    expectRefused(
      translate(out, ["huge.png"], [join(dir, "ok32.png")], "o.png"),
      /image huge\.png is 70000000 bytes: too large \(limit maxImageFileBytes = 67108864\)/,
      out,
      ["w.safetensors", "huge.png"],
    );
  });
});

describe("batches beyond the device are refused before decoding (item 9)", () => {
  it("10,000 content images: a device limit, named, before anything is decoded", () => {
    const out = freshDir();
    const r = translate(dir, Array(10_000).fill("ok32.png"), ["ok32.png"], join(out, "o.png"));
    expectRefused(
      r,
      /10000 content .*\(limit (maxStorageBufferBindingSize|maxBufferSize|maxComputeWorkgroupsPerDimension) = \d+\)/,
      out,
    );
  });

  it("10,000 class images of 48x48: the pixels of one call", () => {
    const out = freshDir();
    const r = translate(dir, ["ok32.png"], Array(10_000).fill("ok48.png"), join(out, "o.png"));
    expectRefused(r, /1 content and 10000 class images .*too large \(limit maxBatchPixels = /, out);
  });
});

describe("outputs that are not regular files are left alone (item 8)", () => {
  it("translate and convert refuse a FIFO as their output", () => {
    const out = freshDir();
    execFileSync("mkfifo", [join(out, "o.png")]);
    expectRefused(
      translate(dir, ["ok32.png"], ["ok32.png"], join(out, "o.png")),
      /cannot write .*o\.png: it exists and is a FIFO, not a regular file/,
      out,
      ["o.png"],
    );
    execFileSync("mkfifo", [join(out, "w.safetensors")]);
    expectRefused(
      runCliMeasured(root, [
        "convert",
        join(root, "test/fixtures/tiny-a/gen.pt"),
        join(out, "w.safetensors"),
      ]),
      /cannot write .*w\.safetensors: it exists and is a FIFO/,
      out,
      ["o.png", "w.safetensors"],
    );
    expect(lstatSync(join(out, "o.png")).isFIFO()).toBe(true);
  });
});

describe("hostile checkpoints (items 6, 7)", () => {
  it("a view over a sparse 3.4 GB storage: refused, no temp file, bounded memory", () => {
    const out = freshDir();
    const { bytes, size } = sparseSpanCheckpoint(3.4e9);
    writeFileSync(join(out, "sparse.pt"), bytes);
    truncateSync(join(out, "sparse.pt"), size); // a hole: gigabytes long, kilobytes on disk
    expect(statSync(join(out, "sparse.pt")).size).toBeGreaterThan(3.4e9);
    expectRefused(
      runCliMeasured(root, ["convert", join(out, "sparse.pt"), join(out, "o.safetensors")]),
      /sparse\.pt: .*too sparse a view \(limit maxViewSpanRatio = 4\)/,
      out,
      ["sparse.pt"],
    );
  });

  it("pickles of millions of empty dicts: the object cap, or the byte cap before reading", () => {
    const out = freshDir();
    writeFileSync(
      join(out, "dicts7.pt"),
      torchZip(new Map(), { pickleBytes: manyDictsPickle(3.5e6) }),
    );
    writeFileSync(
      join(out, "dicts20.pt"),
      torchZip(new Map(), { pickleBytes: manyDictsPickle(1e7) }),
    );
    expectRefused(
      runCliMeasured(root, ["convert", join(out, "dicts7.pt"), join(out, "o.safetensors")]),
      /dicts7\.pt: pickle byte \d+: more than 100000 values \(limit maxPickleObjects = 100000\)/,
      out,
      ["dicts7.pt", "dicts20.pt"],
    );
    expectRefused(
      runCliMeasured(root, ["convert", join(out, "dicts20.pt"), join(out, "o.safetensors")]),
      /dicts20\.pt: data\.pkl is 20000004 bytes: too large \(limit maxPickleBytes = 8388608\)/,
      out,
      ["dicts7.pt", "dicts20.pt"],
    );
  });
});
