/**
 * The `funit` command end to end: builds dist/ once, then spawns `node bin/funit.mjs` the way a user
 * runs it. Checks usage errors and bad input (K = 0, wrong image size, unreadable image, missing
 * weights, missing output directory), each exiting 2 with a `funit:` message and leaving no output
 * file; then the real paths on the tiny-a model: translate writes PNGs, verify --json reports every
 * intermediate and fails a too-tight tolerance, and the demo writes a picture of the right size.
 */
import { beforeAll, describe, expect, it, vi } from "vitest";
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
import { ROW_LABELS } from "../src/node/demo";
import { UNSEEN_FONTS } from "../src/glyphs";
import {
  COMMANDS,
  main,
  exitCodeFor,
  EXIT_CHECK_FAILED,
  EXIT_DEVICE,
  EXIT_USAGE,
} from "../src/cli";
import { allOptions } from "../src/node/args";
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

/** Dawn's own adapter warnings on lavapipe (see the README); not ours. */
const DAWN_WARNING = /^Warning: maxDynamic\w+ artificially reduced/;

interface Run {
  command: string;
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
  return { command: args[0] ?? "", status: r.status, stdout: r.stdout, stderr: r.stderr };
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

/**
 * The error contract: exit 2, messages matching `pattern`, every stderr line with the command's
 * prefix (`funit <command>:`, or `funit:` outside a command), no stack, nothing written.
 */
function expectInputFailure(r: Run, pattern: RegExp, outDir?: string): void {
  expect(r.status, r.stderr).toBe(2);
  const prefix = r.command in COMMANDS ? `funit ${r.command}: ` : "funit: ";
  const lines = r.stderr
    .trimEnd()
    .split("\n")
    .filter((l) => !DAWN_WARNING.test(l));
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) expect(line.startsWith(prefix), line).toBe(true);
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

  it("--version prints the package's name and version", () => {
    const r = funit("--version");
    expect(r.status).toBe(0);
    const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
    expect(r.stdout).toBe(`${manifest.name} ${manifest.version}\n`);
  });

  it("each command's --help lists every option its parser takes, as help COMMAND does", () => {
    expect(Object.keys(COMMANDS).sort()).toEqual([
      "convert",
      "demo",
      "font",
      "translate",
      "verify",
    ]);
    for (const [name, spec] of Object.entries(COMMANDS)) {
      const r = funit(name, "--help");
      expect(r.status, name).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^usage: funit ${name} `));
      const listed = [...r.stdout.matchAll(/^ {2}(?:-\w, )?--([\w-]+)/gm)].map((m) => m[1]);
      expect(listed, name).toEqual(Object.keys(allOptions(spec)));
      expect(funit("help", name).stdout).toBe(r.stdout);
      expect(funit("help").stdout).toContain(`funit ${name} `);
    }
  });

  it("unknown commands, unknown options, stray arguments and missing options exit 2", () => {
    expectInputFailure(funit("frobnicate"), /unknown command 'frobnicate'/);
    expectInputFailure(funit("translate", "--weigths", "w"), /Unknown option '--weigths'/);
    expectInputFailure(
      funit("verify", "stray", "--weights", TINY_WEIGHTS),
      /unexpected argument 'stray'/,
    );
    expectInputFailure(
      funit("translate", "--content", png32, "--class", png32),
      /--out is required/,
    );
    expectInputFailure(
      funit("verify", "--weights", TINY_WEIGHTS, "--expected", TINY_EXPECTED, "--atol", "tight"),
      /--atol must be a non-negative number/,
    );
    expectInputFailure(funit("demo", "--size", "3"), /Unknown option '--size'/);
    expectInputFailure(funit("font", "--style-font", "Arial", "--out", "x.otf"), /'Arial'/);
    expectInputFailure(funit("convert", "a.pt"), /expected IN\.pt and OUT\.safetensors/);
    expectInputFailure(funit("help", "nope"), /unknown command 'nope'/);
  });

  it("'-' is stdin once, and --out - takes one content image and no terminal", async () => {
    expectInputFailure(
      funit("translate", "--content", "-", "--class", "-", "--out", "o.png"),
      /'-' may be given once/,
    );
    expectInputFailure(
      funit("translate", "--content", png32, png32, "--class", png32, "--out", "-"),
      /--out - writes one PNG to stdout, but 2 content images/,
    );
    // a terminal on stdout gets no binary PNG (checked in-process, where isTTY can be set)
    const tty = Object.getOwnPropertyDescriptor(process.stdout, "isTTY");
    const errors: string[] = [];
    const spy = vi.spyOn(console, "error").mockImplementation((m: string) => void errors.push(m));
    Object.defineProperty(process.stdout, "isTTY", { value: true, configurable: true });
    try {
      expect(await main(["translate", "--content", png32, "--class", png32, "--out", "-"])).toBe(2);
    } finally {
      if (tty) Object.defineProperty(process.stdout, "isTTY", tty);
      else delete (process.stdout as { isTTY?: boolean }).isTTY;
      spy.mockRestore();
    }
    expect(errors[0]).toMatch(
      /^funit translate: --out - writes a binary PNG to stdout, which is a terminal/,
    );
    const r = spawnSync(
      process.execPath,
      [join(root, "bin/funit.mjs"), "translate", "--content", "-", "--class", png32, "--out", "-"],
      { cwd: root, encoding: "utf8", input: "not an image" },
    );
    expectInputFailure({ command: "translate", ...r }, /stdin: not a PNG or JPEG/);
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

  it("translate reads stdin and writes stdout for '-', with the shipped model by default", () => {
    // a 64×64 glyph-like input for the shipped 64-pixel Hangul model
    const glyph = patternPng(64);
    const glyphPath = join(dir, "glyph64.png");
    writeFileSync(glyphPath, glyph);
    const r = spawnSync(
      process.execPath,
      [
        join(root, "bin/funit.mjs"),
        "translate",
        "--content",
        "-",
        "--class",
        glyphPath,
        "--out",
        "-",
      ],
      { cwd: root, input: glyph, timeout: 120_000 },
    );
    expect(r.status, r.stderr.toString()).toBe(0);
    const out = freshOutDir();
    const file = join(out, "o.png");
    const w = funit("translate", "--content", glyphPath, "--class", glyphPath, "--out", file);
    expect(w.status, w.stderr).toBe(0);
    // stdout is the PNG and nothing else: the same bytes the file run wrote, from the same model
    expect(Buffer.compare(r.stdout, readFileSync(file))).toBe(0);
    expect([readPng(file).width, readPng(file).height]).toEqual([64, 64]);
  });

  it("demo writes a labelled PNG of the right size, and names a syllable the atlas lacks", () => {
    const out = freshOutDir();
    expectInputFailure(funit("demo", "가똠", "--out", join(out, "d.png")), /'똠' \(U\+B620\)/, out);
    const path = join(out, "demo.png");
    const r = funit("demo", "가 가", "--out", path);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/ms per glyph/);
    for (const font of UNSEEN_FONTS) expect(r.stdout).toContain(`${font} ${ROW_LABELS[font]}`);
    const img = readPng(path);
    // a label column as wide as the longest label (half-size glyphs, half a cell of margin on
    // each side), then 5 references + a gap + 3 cells; a source row + 8 fonts; 64-pixel cells
    const longest = Math.max(...Object.values(ROW_LABELS).map((l) => [...l].length));
    const labelWidth = longest * 32 + 32;
    expect([img.width, img.height]).toEqual([labelWidth + (5 + 1 + 3) * 64, 9 * 64]);
    // each row's label has ink, ink as wide as its label, and no two rows' labels are the same
    const labels = Array.from({ length: 9 }, (_, row) => {
      const ink: number[] = [];
      for (let y = row * 64; y < (row + 1) * 64; y++)
        for (let x = 0; x < labelWidth; x++)
          if (img.data[(y * img.width + x) * 4]! < 128) ink.push(x);
      return ink;
    });
    const names = [ROW_LABELS.source, ...UNSEEN_FONTS.map((f) => ROW_LABELS[f])];
    labels.forEach((ink, row) => {
      expect(ink.length, names[row]).toBeGreaterThan(0);
      expect(Math.max(...ink), names[row]).toBeGreaterThan(16 + ([...names[row]!].length - 1) * 32);
      expect(Math.max(...ink), names[row]).toBeLessThan(16 + [...names[row]!].length * 32);
    });
    expect(new Set(labels.map((ink) => ink.join())).size).toBe(9);
  });
});
