/**
 * The font library in Deno: src/font is bundled as it is (platform neutral, so no Node built-in may
 * sneak in; the WebAssembly glue's Node-only requires stay external and are never called), a
 * script traces a synthetic glyph (a square ring) and writes an OTF and a WOFF2, and ots-sanitize
 * accepts both. Deno has a `process` global, which sends both Emscripten glues down Node's path:
 * this is the check that src/font/emscripten.ts's stand-ins make that path work in an ES module.
 */
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { packageRoot } from "../src/node/assets";

const ROOT = packageRoot();
const SCRIPT = `
import { fontFromGlyphs } from ${JSON.stringify(join(ROOT, "src/font/index.ts"))};
const size = 64;
const data = new Uint8Array(size * size * 4).fill(255);
for (let y = 16; y < 48; y++)
  for (let x = 16; x < 48; x++)
    if (x < 24 || x > 40 || y < 24 || y > 40) data.fill(0, (y * size + x) * 4, (y * size + x) * 4 + 3);
const r = await fontFromGlyphs([{ char: "가", image: { width: size, height: size, data } }], {
  names: { family: "Deno Test" },
});
await Deno.writeFile(Deno.args[0] + "/deno.otf", r.otf);
await Deno.writeFile(Deno.args[0] + "/deno.woff2", r.woff2);
console.log(JSON.stringify({ glyphs: r.glyphs, points: r.medianPoints }));
`;

describe("the font library in Deno", () => {
  it("traces and writes an OTF and a WOFF2 that ots-sanitize accepts", async () => {
    const dir = mkdtempSync(join(tmpdir(), "funit-font-deno-"));
    writeFileSync(join(dir, "main.ts"), SCRIPT);
    await build({
      entryPoints: [join(dir, "main.ts")],
      outfile: join(dir, "main.mjs"),
      bundle: true,
      format: "esm",
      platform: "neutral",
      mainFields: ["module", "main"],
      external: ["fs", "path", "node:fs"],
      logLevel: "error",
      absWorkingDir: ROOT,
    });
    const r = spawnSync(
      join(ROOT, "node_modules/.bin/deno"),
      ["run", "--no-config", "--no-lock", `--allow-write=${dir}`, join(dir, "main.mjs"), dir],
      { encoding: "utf8", timeout: 120_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    const made = JSON.parse(r.stdout.trim().split("\n").pop()!);
    expect(made.glyphs).toBe(1);
    // the ring: an outer square and a square hole, at least their 8 corners
    expect(made.points).toBeGreaterThanOrEqual(8);
    for (const f of ["deno.otf", "deno.woff2"]) {
      expect(readFileSync(join(dir, f)).length).toBeGreaterThan(0);
      const ots = spawnSync("ots-sanitize", [join(dir, f)], { encoding: "utf8" });
      expect(ots.status, `${f}: ${ots.stdout}${ots.stderr}`).toBe(0);
    }
  }, 180_000);
});
