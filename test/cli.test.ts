/**
 * The `funit` command end to end: builds dist/ once, then spawns `node bin/funit.mjs` the way a user
 * runs it. Checks usage errors and bad input (K = 0, wrong image size, unreadable image, missing
 * weights, missing output directory), each exiting 2 with a `funit:` message and leaving no output
 * file; then the real paths on the tiny-a model: translate writes PNGs, verify --json reports every
 * intermediate and fails a too-tight tolerance, and the demo writes a picture of the right size.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { execFileSync, spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import jpeg from "jpeg-js";
import { PNG } from "pngjs";
import { encodePng } from "../src/node/images";
import { packageRoot } from "../src/node/assets";
import { exitCodeFor, EXIT_CHECK_FAILED, EXIT_DEVICE, EXIT_USAGE } from "../src/cli";
import {
  CheckpointError,
  DeviceError,
  InputError,
  ModelFormatError,
  PickleError,
  SafetensorsError,
  UsageError,
  ZipError,
} from "../src/errors";

const root = packageRoot();
const TINY_WEIGHTS = join(root, "test/fixtures/tiny-a/gen_test.safetensors");
const TINY_EXPECTED = join(root, "test/fixtures/tiny-a/expected.safetensors");

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function funit(...args: string[]): Run {
  const r = spawnSync(process.execPath, [join(root, "bin/funit.mjs"), ...args], {
    cwd: root,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A grey test pattern (a dark square on white), PNG bytes. */
function patternPng(size: number): Uint8Array {
  const data = new Uint8Array(size * size * 4).fill(255);
  const [lo, hi] = [Math.floor(size / 4), Math.floor((3 * size) / 4)];
  for (let y = lo; y < hi; y++)
    for (let x = lo; x < hi; x++) data.fill(30, (y * size + x) * 4, (y * size + x) * 4 + 3);
  return encodePng({ width: size, height: size, data });
}

let dir: string;
let png32: string;
let png30: string;

function freshOutDir(): string {
  return mkdtempSync(join(dir, "out-"));
}

/** The error contract: exit 2, one `funit:` message matching `pattern`, no stack, nothing written. */
function expectInputFailure(r: Run, pattern: RegExp, outDir?: string): void {
  expect(r.status, r.stderr).toBe(2);
  expect(r.stderr).toMatch(/^funit: /m);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stdout).toBe("");
  if (outDir) expect(readdirSync(outDir)).toEqual([]);
}

beforeAll(() => {
  execFileSync(process.execPath, [join(root, "scripts/build.mjs")], { cwd: root, stdio: "pipe" });
  dir = mkdtempSync(join(tmpdir(), "funit-cli-"));
  png32 = join(dir, "content32.png");
  png30 = join(dir, "content30.png");
  writeFileSync(png32, patternPng(32));
  writeFileSync(png30, patternPng(30));
});

describe("exit codes come from one instanceof mapping", () => {
  it("input of any kind is 2, the device 3, anything untyped 1", () => {
    for (const e of [
      new InputError("x"),
      new UsageError("x"),
      new ModelFormatError("x"),
      new SafetensorsError("x"),
      new CheckpointError("x"),
      new ZipError("x"),
      new PickleError("x"),
    ])
      expect(exitCodeFor(e), e.name).toBe(EXIT_USAGE);
    expect(exitCodeFor(new DeviceError("lost"))).toBe(EXIT_DEVICE);
    expect(EXIT_DEVICE).toBe(3);
    expect(exitCodeFor(new TypeError("bug"))).toBe(EXIT_CHECK_FAILED);
    // by class, not by name: an untyped error that calls itself InputError is still a bug
    expect(exitCodeFor(Object.assign(new Error("x"), { name: "InputError" }))).toBe(1);
    expect(exitCodeFor("a string")).toBe(1);
  });
});

describe("usage errors", () => {
  it("no command prints the usage and exits 2", () => {
    const r = funit();
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/usage:/);
  });

  it("help exits 0 with the usage on stdout", () => {
    const r = funit("help");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/funit translate/);
    expect(funit("translate", "--help").stdout).toMatch(/--size S/);
  });

  it("unknown commands, unknown options, stray arguments and missing options exit 2", () => {
    expectInputFailure(funit("frobnicate"), /unknown command 'frobnicate'/);
    expectInputFailure(funit("translate", "--weigths", "w"), /Unknown option '--weigths'/);
    expectInputFailure(
      funit("verify", "stray", "--weights", TINY_WEIGHTS),
      /unexpected argument 'stray'/,
    );
    expectInputFailure(
      funit("translate", "--content", png32, "--class", png32, "--out", "x.png"),
      /--weights is required/,
    );
    expectInputFailure(
      funit("verify", "--weights", TINY_WEIGHTS, "--expected", TINY_EXPECTED, "--atol", "tight"),
      /--atol must be a non-negative number/,
    );
  });
});

describe("translate input errors leave no output", () => {
  it("K = 0 (no --class)", () => {
    const out = freshOutDir();
    expectInputFailure(
      funit(
        "translate",
        "--weights",
        TINY_WEIGHTS,
        "--content",
        png32,
        "--out",
        join(out, "o.png"),
      ),
      /K = 0/,
      out,
    );
  });

  it("an image size the model cannot take", () => {
    const out = freshOutDir();
    const r = funit(
      "translate",
      "--weights",
      TINY_WEIGHTS,
      "--content",
      png30,
      "--class",
      png32,
      "--out",
      join(out, "o.png"),
    );
    expectInputFailure(r, /content30\.png is 30x30: .*multiples of 4/, out);
  });

  it("an unreadable or missing image", () => {
    const out = freshOutDir();
    const junk = join(dir, "junk.png");
    writeFileSync(junk, "this is not an image");
    expectInputFailure(
      funit(
        "translate",
        "--weights",
        TINY_WEIGHTS,
        "--content",
        png32,
        "--class",
        junk,
        "--out",
        join(out, "o.png"),
      ),
      /junk\.png: not a PNG or JPEG/,
      out,
    );
    const cut = join(dir, "cut.png");
    writeFileSync(cut, patternPng(32).subarray(0, 60));
    expectInputFailure(
      funit(
        "translate",
        "--weights",
        TINY_WEIGHTS,
        "--content",
        cut,
        "--class",
        png32,
        "--out",
        join(out, "o.png"),
      ),
      /cut\.png: corrupt or truncated PNG/,
      out,
    );
    expectInputFailure(
      funit(
        "translate",
        "--weights",
        TINY_WEIGHTS,
        "--content",
        join(dir, "absent.png"),
        "--class",
        png32,
        "--out",
        join(out, "o.png"),
      ),
      /cannot read image .*absent\.png: no such file/,
      out,
    );
  });

  it("missing or wrong weights", () => {
    const out = freshOutDir();
    expectInputFailure(
      funit(
        "translate",
        "--weights",
        join(dir, "none.safetensors"),
        "--content",
        png32,
        "--class",
        png32,
        "--out",
        join(out, "o.png"),
      ),
      /cannot read weights file .*none\.safetensors: no such file/,
      out,
    );
    expectInputFailure(
      funit(
        "translate",
        "--weights",
        TINY_EXPECTED,
        "--content",
        png32,
        "--class",
        png32,
        "--out",
        join(out, "o.png"),
      ),
      /weights file .*expected\.safetensors: .*missing/,
      out,
    );
  });

  it("an output directory that does not exist, and a bad --size", () => {
    const out = freshOutDir();
    expectInputFailure(
      funit(
        "translate",
        "--weights",
        TINY_WEIGHTS,
        "--content",
        png32,
        "--class",
        png32,
        "--out",
        join(out, "no/such/dir/o.png"),
      ),
      /directory .*no\/such\/dir does not exist/,
      out,
    );
    expectInputFailure(
      funit(
        "translate",
        "--weights",
        TINY_WEIGHTS,
        "--content",
        png32,
        "--class",
        png32,
        "--out",
        join(out, "o.png"),
        "--size",
        "0",
      ),
      /--size must be a positive integer/,
      out,
    );
  });

  it("FUNIT_DEBUG=1 adds the stack trace", () => {
    const r = spawnSync(
      process.execPath,
      [
        join(root, "bin/funit.mjs"),
        "translate",
        "--weights",
        join(dir, "none"),
        "--content",
        png32,
        "--class",
        png32,
        "--out",
        join(dir, "o.png"),
      ],
      { encoding: "utf8", env: { ...process.env, FUNIT_DEBUG: "1" } },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/\n\s+at /);
  });
});

describe("launcher", () => {
  it("asks for a build when dist/ is missing", () => {
    const fake = mkdtempSync(join(dir, "pkg-"));
    mkdirSync(join(fake, "bin"));
    copyFileSync(join(root, "bin/funit.mjs"), join(fake, "bin/funit.mjs"));
    const r = spawnSync(process.execPath, [join(fake, "bin/funit.mjs"), "help"], {
      encoding: "utf8",
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/run `npm run build` \(or npm install\) first/);
  });
});

describe("with the engine", () => {
  const readPng = (path: string) => PNG.sync.read(readFileSync(path));

  it("translate writes one PNG, or OUT-i.png for several content images (JPEG in, --size)", () => {
    const out = freshOutDir();
    const one = join(out, "one.png");
    let r = funit(
      "translate",
      "--weights",
      TINY_WEIGHTS,
      "--content",
      png32,
      "--class",
      png32,
      png32,
      "--out",
      one,
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(one);
    const img = readPng(one);
    expect([img.width, img.height]).toEqual([32, 32]);

    const jpg40 = join(dir, "class40.jpg");
    const data = new Uint8Array(40 * 40 * 4).map((_, i) => (i % 4 === 3 ? 255 : (i * 7) % 256));
    writeFileSync(jpg40, jpeg.encode({ width: 40, height: 40, data: Buffer.from(data) }, 90).data);
    r = funit(
      "translate",
      "--weights",
      TINY_WEIGHTS,
      "--content",
      png32,
      png30,
      "--class",
      jpg40,
      "--out",
      join(out, "many.png"),
      "--size",
      "32",
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim().split("\n")).toEqual([join(out, "many-0.png"), join(out, "many-1.png")]);
    expect(readdirSync(out).sort()).toEqual(["many-0.png", "many-1.png", "one.png"]);
    expect(readPng(join(out, "many-1.png")).width).toBe(32);
  });

  it("verify --json reports every intermediate and ok true", () => {
    const r = funit("verify", "--weights", TINY_WEIGHTS, "--expected", TINY_EXPECTED, "--json");
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(Object.keys(report)).toEqual([
      "content_code",
      "class_code",
      "adain_params",
      "output",
      "ok",
    ]);
    expect(report.ok).toBe(true);
    expect(report.output.shape).toEqual([2, 3, 32, 32]);
    expect(report.class_code.shape).toEqual([1, 16]);
    for (const k of ["content_code", "class_code", "adain_params", "output"])
      expect(report[k].maxAbsErr).toBeLessThanOrEqual(1e-4);
  });

  it("verify fails (exit 1) with a tolerance no float engine can meet, and prints a table otherwise", () => {
    const r = funit(
      "verify",
      "--weights",
      TINY_WEIGHTS,
      "--expected",
      TINY_EXPECTED,
      "--json",
      "--atol",
      "1e-12",
    );
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout).ok).toBe(false);
    const table = funit("verify", "--weights", TINY_WEIGHTS, "--expected", TINY_EXPECTED);
    expect(table.status).toBe(0);
    expect(table.stdout).toMatch(/^content_code\s+\[2, 32, 8, 8\]\s+\S+\s+ok$/m);
    expect(table.stdout).toMatch(/all within atol/);
  });

  it("verify refuses a file that is not funit-expected/1", () => {
    expectInputFailure(
      funit("verify", "--weights", TINY_WEIGHTS, "--expected", TINY_WEIGHTS),
      /funit-expected\/1/,
    );
  });

  it("demo writes a PNG of the right size and names a syllable the source atlas lacks", () => {
    const out = freshOutDir();
    expectInputFailure(funit("demo", "가똠", "--out", join(out, "d.png")), /'똠' \(U\+B620\)/, out);
    const path = join(out, "demo.png");
    const r = funit("demo", "가 가", "--out", path);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/ms per glyph/);
    const img = readPng(path);
    // 5 references + a gap + 3 cells; a source row + 8 fonts; 64-pixel cells.
    expect([img.width, img.height]).toEqual([(5 + 1 + 3) * 64, 9 * 64]);
    expect(existsSync(path)).toBe(true);
  });
});
