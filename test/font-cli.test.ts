/**
 * `funit font` end to end through bin/funit.mjs (dist/ is built by `npm test`): usage and input
 * errors exit 2 naming what is wrong and before the GPU starts, leaving no file; a short text in
 * the style of the user's own glyph images writes an OTF and a WOFF2 (and no temp file); Ctrl-C
 * (SIGINT) during generation stops the run, exits 1 and writes nothing.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cutCell } from "../src/glyphs";
import { encodePng } from "../src/node/images";
import { loadUnseenAtlas, packageRoot } from "../src/node/assets";

const root = packageRoot();
const BIN = join(root, "bin/funit.mjs");

function funit(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, "font", ...args], {
    cwd: root,
    encoding: "utf8",
    timeout: 300_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

let dir: string;
let classPngs: string[];

beforeAll(async () => {
  if (!existsSync(join(root, "dist/cli.js")))
    throw new Error("dist/cli.js is missing: run `npm run build` first");
  dir = mkdtempSync(join(tmpdir(), "funit-font-cli-"));
  const atlas = await loadUnseenAtlas("Bandal");
  classPngs = [580, 585, 590].map((i) => {
    const path = join(dir, `ref-${i}.png`);
    writeFileSync(path, encodePng(cutCell(atlas, i)));
    return path;
  });
});

function fresh(): string {
  return mkdtempSync(join(dir, "out-"));
}

describe("funit font: refusals", () => {
  const cases: [string, string[], RegExp][] = [
    ["no style", ["--out", "F.otf"], /either --style-font NAME or --class/],
    ["two styles", ["--style-font", "Bandal", "--class", "a.png", "--out", "F.otf"], /not both/],
    ["an unknown font", ["--style-font", "Arial", "--out", "F.otf"], /'Arial' is not one of/],
    ["no --out", ["--style-font", "Bandal"], /--out is required/],
    ["a bad batch", ["--style-font", "Bandal", "--out", "F.otf", "--batch", "0"], /--batch/],
    [
      "a character that is no syllable",
      ["--style-font", "Bandal", "--out", "F.otf", "--chars", "가A"],
      /'A' \(U\+0041\)/,
    ],
    [
      "a missing weights file",
      ["--style-font", "Bandal", "--out", "F.otf", "--weights", "nope.safetensors"],
      /cannot read weights file nope\.safetensors/,
    ],
    ["a missing class image", ["--class", "nope.png", "--out", "F.otf"], /nope\.png/],
  ];
  for (const [what, args, message] of cases) {
    it(`${what}: exit 2, nothing written`, () => {
      const out = fresh();
      const r = funit(...args.map((a) => (a === "F.otf" ? join(out, "F.otf") : a)));
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(readdirSync(out)).toEqual([]);
    });
  }

  it("a missing output directory: exit 2", () => {
    const r = funit("--style-font", "Bandal", "--out", join(dir, "no-such-dir", "F.otf"));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/directory .*no-such-dir does not exist/);
  });

  it("--help", () => {
    const r = funit("--help");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/--style-font/);
  });
});

describe("funit font: making fonts", () => {
  it("writes the OTF and WOFF2 of a short text in the style of given glyph images", () => {
    const out = fresh();
    const otf = join(out, "mine.otf");
    const woff2 = join(out, "mine.woff2");
    const r = funit(
      "--class",
      ...classPngs,
      "--chars",
      "퓨샷 폰트",
      "--name",
      "Mine",
      "--out",
      otf,
      "--woff2",
      woff2,
    );
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(["mine.otf", "mine.woff2"]);
    expect(readFileSync(otf).subarray(0, 4).toString("latin1")).toBe("OTTO");
    expect(readFileSync(woff2).subarray(0, 4).toString("latin1")).toBe("wOF2");
    expect(r.stdout).toMatch(/4 glyphs of "Mine"/);
    expect(r.stdout).toMatch(/median \d+ points a glyph/);
  }, 300_000);

  it("Ctrl-C during generation exits 1 and leaves no file", async () => {
    const out = fresh();
    const child = spawn(
      process.execPath,
      [
        BIN,
        "font",
        "--style-font",
        "Bandal",
        "--out",
        join(out, "F.otf"),
        "--woff2",
        join(out, "F.woff2"),
      ],
      { cwd: root },
    );
    let stderr = "";
    const status = await new Promise<number | null>((resolve) => {
      child.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
        // the run has checked its input and is about to start the GPU: interrupt it
        if (/funit font: 2350 glyphs/.test(stderr) && !child.killed) child.kill("SIGINT");
      });
      child.on("exit", (code) => resolve(code));
    });
    expect(status, stderr).toBe(1);
    expect(stderr).toMatch(/interrupted; nothing written/);
    expect(readdirSync(out)).toEqual([]);
  }, 300_000);
});
