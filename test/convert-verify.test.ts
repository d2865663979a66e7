/**
 * Issue 3's end-to-end check through the real command line: `funit convert` of every PyTorch
 * checkpoint in the repo (zip and legacy), then `funit verify` of the converted file against the
 * matching PyTorch reference. f32 must pass at 1e-4; f16 at 2e-2 (measured on the Hangul model:
 * output ≤ 1.4e-2, content code ≤ 2.5e-3, AdaIN parameters ≤ 7.3e-3 over the 8 reference files).
 */
import { beforeAll, afterAll, describe, expect, it } from "vitest";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dir = mkdtempSync(join(tmpdir(), "funit-convert-verify-"));
beforeAll(() => {
  execFileSync("node", ["scripts/build.mjs"]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function funit(args: string[]) {
  const r = spawnSync("node", ["bin/funit.mjs", ...args], { encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const cases = [
  {
    pt: "test/fixtures/tiny-a/gen.pt",
    expected: "test/fixtures/tiny-a/expected.safetensors",
    dtype: "f32",
    atol: 1e-4,
  },
  {
    pt: "test/fixtures/tiny-a/gen-legacy.pt",
    expected: "test/fixtures/tiny-a/expected.safetensors",
    dtype: "f32",
    atol: 1e-4,
  },
  {
    pt: "test/fixtures/tiny-b/gen.pt",
    expected: "test/fixtures/tiny-b/expected.safetensors",
    dtype: "f32",
    atol: 1e-4,
  },
  {
    pt: "test/fixtures/tiny-b/gen-legacy.pt",
    expected: "test/fixtures/tiny-b/expected.safetensors",
    dtype: "f32",
    atol: 1e-4,
  },
  {
    pt: "test/fixtures/hangul64/gen.pt",
    expected: "test/fixtures/hangul64/NanumBrush.safetensors",
    dtype: "f32",
    atol: 1e-4,
  },
  {
    pt: "test/fixtures/hangul64/gen.pt",
    expected: "test/fixtures/hangul64/hline.safetensors",
    dtype: "f16",
    atol: 2e-2,
  },
];

describe("funit convert, then funit verify", () => {
  it.each(cases)(
    "$pt as $dtype verifies against $expected within $atol",
    ({ pt, expected, dtype, atol }) => {
      const out = join(dir, `${pt.replace(/\W+/g, "_")}-${dtype}.safetensors`);
      const conv = funit(["convert", pt, out, "--dtype", dtype]);
      expect(conv.status, conv.stderr).toBe(0);
      const verify = funit([
        "verify",
        "--weights",
        out,
        "--expected",
        expected,
        "--atol",
        String(atol),
        "--json",
      ]);
      expect(verify.status, verify.stderr).toBe(0);
      const report = JSON.parse(verify.stdout);
      expect(report.ok).toBe(true);
      for (const name of ["content_code", "class_code", "adain_params", "output"]) {
        expect(report[name].maxAbsErr, name).toBeLessThanOrEqual(atol);
      }
    },
  );
});
