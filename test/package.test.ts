/**
 * The package as a user gets it: `npm pack` (dist/ built first, as `prepack` does), then checks of
 * the tarball (only what users run: no bench/test/GPU bundles, no source maps; publint --strict
 * and @arethetypeswrong/cli with the ESM-only profile pass), then a fresh project that installs the
 * tarball offline from npm's cache and runs the README's "Use it from npm" examples against it:
 * examples/npm/translate.mjs in Node (first without the optional peer `webgpu`, which must be a
 * DeviceError naming it), examples/npm/typed.ts through `tsc --strict` (moduleResolution bundler
 * and node16), examples/npm/browser.js through esbuild for browsers, and examples/deno/translate.ts
 * through `deno check` and `deno run`. The PNGs the Node and Deno examples write are compared with
 * the Node engine's output from the repo's sources (test/helpers/example-glyphs.ts): Node exactly
 * (same Dawn, same kernels), Deno (wgpu) within 1 level of 255 on ≤ 1% of pixels, as the browser
 * tests allow for kernels that sum in another order.
 *
 * Offline install: `npm install --offline <tgz>` needs the registry documents (packuments) of the
 * package's dependencies, which the repo's own `npm ci` never fetches; so the consumer gets a
 * package-lock.json made from the repo's (same versions and integrities), and `npm ci --offline`
 * installs from the tarballs that `npm ci` left in npm's cache. `webgpu` (132 MB) is linked from the
 * repo's node_modules instead of being copied.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { build } from "esbuild";
import { PNG } from "pngjs";
import { packageRoot } from "../src/node/assets";
import type { ImageRGBA } from "../src/tensor";
import {
  exampleRunInNode,
  imageDifference,
  splitSideBySide,
  type ExampleRun,
} from "./helpers/example-glyphs";

const ROOT = packageRoot();
const BIN = join(ROOT, "node_modules/.bin");
const run = promisify(execFile);
const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));

interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string; size: number }[];
}

let work: string;
let consumer: string;
let tarball: string;
let packed: PackResult;
let node: ExampleRun;

/** Runs a command; a failure's message carries its output, so the test shows why. */
async function sh(file: string, args: string[], cwd: string): Promise<string> {
  try {
    const { stdout, stderr } = await run(file, args, { cwd, maxBuffer: 64 << 20 });
    return stdout + stderr;
  } catch (e) {
    const { stdout, stderr, message } = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${message}\n${stdout ?? ""}${stderr ?? ""}`);
  }
}

/**
 * The consumer's package.json and lock: the tarball, plus the lock entries of its dependencies
 * (transitively) copied from the repo's lock, so npm needs no registry document to install them.
 */
function writeConsumerProject(dir: string, tgz: string): void {
  const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8"));
  const spec = `file:${tgz}`;
  const packages: Record<string, unknown> = {
    "": { name: "consumer", dependencies: { "funit-webgpu": spec } },
    "node_modules/funit-webgpu": {
      version: manifest.version,
      resolved: spec,
      integrity: `sha512-${createHash("sha512").update(readFileSync(tgz)).digest("base64")}`,
      dependencies: manifest.dependencies,
      peerDependencies: manifest.peerDependencies,
      peerDependenciesMeta: manifest.peerDependenciesMeta,
    },
  };
  const queue = Object.keys(manifest.dependencies);
  for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
    const key = `node_modules/${name}`;
    if (packages[key]) continue;
    const entry = lock.packages[key];
    if (!entry) throw new Error(`${key} is not in the repo's package-lock.json`);
    const { dev: _dev, devOptional: _devOptional, peer: _peer, ...kept } = entry;
    packages[key] = kept;
    queue.push(...Object.keys({ ...entry.dependencies, ...entry.optionalDependencies }));
  }
  const pkg = {
    name: "consumer",
    private: true,
    type: "module",
    dependencies: { "funit-webgpu": spec },
  };
  writeFileSync(join(dir, "package.json"), JSON.stringify(pkg, null, 2));
  writeFileSync(
    join(dir, "package-lock.json"),
    JSON.stringify({ name: "consumer", lockfileVersion: 3, requires: true, packages }, null, 2),
  );
}

function readPng(path: string): ImageRGBA {
  const png = PNG.sync.read(readFileSync(path));
  return { width: png.width, height: png.height, data: new Uint8Array(png.data) };
}

beforeAll(async () => {
  // The tarball ships dist/: build it (JavaScript, then declarations) as `prepack` would.
  execFileSync(process.execPath, ["scripts/build.mjs"], { cwd: ROOT, stdio: "pipe" });
  execFileSync(process.execPath, ["scripts/build-types.mjs"], { cwd: ROOT, stdio: "pipe" });
  work = mkdtempSync(join(tmpdir(), "funit-package-"));
  const json = await sh(
    "npm",
    ["pack", "--ignore-scripts", "--json", "--pack-destination", work],
    ROOT,
  );
  packed = JSON.parse(json.slice(json.indexOf("[")))[0];
  tarball = join(work, packed.filename);
  consumer = join(work, "consumer");
  mkdirSync(consumer);
  writeConsumerProject(consumer, tarball);
  await sh("npm", ["ci", "--offline", "--no-audit", "--no-fund"], consumer);
  for (const example of [
    "npm/translate.mjs",
    "npm/typed.ts",
    "npm/browser.js",
    "deno/translate.ts",
  ])
    writeFileSync(
      join(consumer, example.replace("/", "-")),
      readFileSync(join(ROOT, "examples", example)),
    );
  node = await exampleRunInNode();
}, 240_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("the npm tarball", () => {
  it("holds only what users run", () => {
    const paths = packed.files.map((f) => f.path);
    console.log(
      `npm pack: ${(packed.size / 1e6).toFixed(1)} MB packed, ` +
        `${(packed.unpackedSize / 1e6).toFixed(1)} MB unpacked, ${paths.length} files`,
    );
    for (const wanted of [
      "dist/index.js",
      "dist/index.d.ts",
      "dist/node.js",
      "dist/node.d.ts",
      "dist/font.js",
      "dist/font.d.ts",
      "dist/cli.js",
      "dist/browser/funit.js",
      "bin/funit.mjs",
      "weights/hangul64-f16.safetensors",
      "assets/glyphs/source-NotoSansCJKkr-Regular-2350.png",
    ])
      expect(paths).toContain(wanted);
    const unwanted = paths.filter((p) =>
      /\.map$|^dist\/(bench|test|gpu|tools|web|\.types)\/|^(src|test|bench|web|shaders)\//.test(p),
    );
    expect(unwanted).toEqual([]);
  });

  it("needs Dawn only as an optional peer dependency, and never builds on install", () => {
    expect(manifest.dependencies.webgpu).toBeUndefined();
    expect(manifest.peerDependencies.webgpu).toBeDefined();
    expect(manifest.peerDependenciesMeta.webgpu.optional).toBe(true);
    expect(manifest.dependencies["@webgpu/types"]).toBeDefined();
    expect(manifest.scripts.prepare).toBeUndefined();
    expect(manifest.scripts.prepack).toMatch(/build/);
  });

  it("passes publint --strict and @arethetypeswrong/cli (ESM-only profile)", async () => {
    const [publint, attw] = await Promise.all([
      sh(join(BIN, "publint"), ["--strict", tarball], ROOT),
      sh(join(BIN, "attw"), [tarball, "--profile", "esm-only", "--format", "json"], ROOT),
    ]);
    expect(publint).toContain("All good!");
    // attw exits non-zero on a problem its profile counts; the ESM-only profile ignores only
    // CommonJS require() and node10 resolution. Types resolve to the bundled declarations.
    const report = JSON.parse(attw.slice(attw.indexOf("{")));
    const counted = Object.values(report.problems as Record<string, { resolutionKind: string }[]>)
      .flat()
      .filter((p) => !["node10", "node16-cjs"].includes(p.resolutionKind));
    expect(counted).toEqual([]);
    for (const [entry, types] of [
      [".", "dist/index.d.ts"],
      ["./node", "dist/node.d.ts"],
      ["./font", "dist/font.d.ts"],
    ])
      for (const kind of ["node16-esm", "bundler"])
        expect(report.analysis.entrypoints[entry!].resolutions[kind].resolution.fileName).toBe(
          `/node_modules/funit-webgpu/${types}`,
        );
  });

  it("has deno.json's version equal to package.json's", () => {
    expect(JSON.parse(readFileSync(join(ROOT, "deno.json"), "utf8")).version).toBe(
      manifest.version,
    );
  });
});

describe("a project that installed the tarball", () => {
  it("gets a DeviceError naming the optional peer 'webgpu' when asking Node for a device without it", async () => {
    const script =
      'import("funit-webgpu/node").then((m) => m.getNodeDevice()).then(' +
      "() => console.log('no error'), (e) => console.log(`${e.name}: ${e.message}`))";
    const out = await sh(process.execPath, ["--input-type=module", "-e", script], consumer);
    expect(out).toMatch(/^DeviceError: .*install the optional peer dependency 'webgpu'/);
  });

  it("makes a font (OpenType and WOFF2) from two glyph images with funit-webgpu/font in Node", async () => {
    // Two 64×64 glyphs, a filled square and a bar, built in the script so no file is needed; a
    // glyph with no ink must be an InputError of the core entry (one class across entries).
    const script = `
      import { fontFromGlyphs } from "funit-webgpu/font";
      import { InputError } from "funit-webgpu";
      const glyph = (x0, y0, x1, y1) => {
        const data = new Uint8Array(64 * 64 * 4).fill(255);
        for (let y = y0; y < y1; y++)
          for (let x = x0; x < x1; x++) data.fill(0, (y * 64 + x) * 4, (y * 64 + x) * 4 + 3);
        return { width: 64, height: 64, data };
      };
      const names = { family: "Consumer Test" };
      const font = await fontFromGlyphs(
        [{ char: "가", image: glyph(12, 12, 52, 52) }, { char: "나", image: glyph(28, 8, 36, 56) }],
        { names },
      );
      const blank = await fontFromGlyphs([{ char: "다", image: glyph(0, 0, 0, 0) }], { names })
        .then(() => "no error", (e) => (e instanceof InputError ? "InputError" : String(e)));
      const magic = (bytes) => new TextDecoder().decode(bytes.subarray(0, 4));
      console.log(JSON.stringify({
        magic: magic(font.otf), bytes: font.otf.length, woff2: magic(font.woff2), blank,
      }));`;
    const out = await sh(process.execPath, ["--input-type=module", "-e", script], consumer);
    const result = JSON.parse(out.slice(out.indexOf("{")));
    expect(result.magic).toBe("OTTO");
    expect(result.bytes).toBeGreaterThan(0);
    expect(result.woff2).toBe("wOF2");
    expect(result.blank).toBe("InputError");
  });

  it("runs examples/npm/translate.mjs in Node: the engine's own output", async () => {
    symlinkSync(join(ROOT, "node_modules/webgpu"), join(consumer, "node_modules/webgpu"), "dir");
    const out = join(consumer, "node.png");
    expect(await sh(process.execPath, ["npm-translate.mjs", out], consumer)).toMatch(
      /style: 64 numbers; wrote/,
    );
    splitSideBySide(readPng(out)).forEach((glyph, i) =>
      expect(imageDifference(glyph, node.outputs[i]!).maxLevels).toBe(0),
    );
  });

  it("compiles examples/npm/typed.ts with tsc --strict (moduleResolution bundler and node16)", async () => {
    const tsc = join(ROOT, "node_modules/typescript/bin/tsc");
    const common = ["--strict", "--noEmit", "--target", "es2022", "npm-typed.ts"];
    await Promise.all(
      ["bundler", "node16"].map((resolution) =>
        sh(
          process.execPath,
          [
            tsc,
            ...common,
            "--module",
            resolution === "bundler" ? "esnext" : "node16",
            "--moduleResolution",
            resolution,
          ],
          consumer,
        ),
      ),
    );
  });

  it("bundles examples/npm/browser.js for browsers with the engine only", async () => {
    const result = await build({
      absWorkingDir: consumer,
      entryPoints: ["npm-browser.js"],
      bundle: true,
      write: false,
      format: "esm",
      platform: "browser",
      metafile: true,
      logLevel: "silent",
    });
    expect(Object.keys(result.metafile.inputs).sort()).toEqual([
      "node_modules/funit-webgpu/dist/index.js",
      "npm-browser.js",
    ]);
  });

  it("runs examples/deno/translate.ts: deno check, then deno run writes the engine's output", async () => {
    const deno = join(BIN, "deno");
    await sh(deno, ["check", "deno-translate.ts"], consumer);
    const out = join(consumer, "deno.png");
    const log = await sh(
      deno,
      ["run", "--allow-read", "--allow-write", "deno-translate.ts", out],
      consumer,
    );
    expect(log).toMatch(/style: 64 numbers; wrote/);
    splitSideBySide(readPng(out)).forEach((glyph, i) => {
      const { maxLevels, differing } = imageDifference(glyph, node.outputs[i]!);
      console.log(
        `Deno vs Node, glyph ${i}: max ${maxLevels} level(s), ${(differing * 100).toFixed(3)}% differ`,
      );
      expect(maxLevels).toBeLessThanOrEqual(1);
      expect(differing).toBeLessThanOrEqual(0.01);
    });
  });
});

describe("JSR", () => {
  it("deno publish --dry-run passes, slow-type check included", async () => {
    const out = await sh(join(BIN, "deno"), ["publish", "--dry-run", "--allow-dirty"], ROOT);
    expect(out).toContain("Checking for slow types");
    expect(out).toMatch(/Success.*Dry run complete/);
    expect(out).not.toMatch(/dist\/(bench|test|gpu)|\.map\b/);
  });
});
