/**
 * The WGSL loader's include step (scripts/wgsl-loader.mjs): `//#include "file"` expands relative
 * to the including file, once per kernel, refuses cycles and missing files naming the include's
 * file and line, keeps a line map so that parse errors and reflection refusals name the body file
 * and line, and leaves element-type aliases to wgsl_reflect. Also what the shipped shaders promise:
 * no include survives expansion, every file opens with a comment, every body is used, the f32 and
 * f16 twins reflect alike, the build's dist/shaders/ text is what the GPU compiles, and the
 * row-tiled convolutions refuse a PHASES shape they cannot serve before any GPU work.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { expandWgsl, loadWgsl } from "../scripts/wgsl-loader.mjs";
import { reflectKernel, type ReflectedKernel } from "../src/runtime/reflect";
import { checkOverrides, getKernel, KERNEL_SOURCES, type KernelName } from "../src/runtime/kernels";

/** Writes files (path → text) under a fresh temporary folder; returns the folder. */
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "wgsl-loader-"));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

const PARAMS = "struct P { n: u32 }\n@group(0) @binding(0) var<uniform> params: P;\n";
const MAIN = "@compute @workgroup_size(1) fn main() { y[0] = x[0]; }\n";

describe("WGSL includes", () => {
  it("expands nested includes relative to the including file, with a line map", () => {
    const dir = tree({
      "k.wgsl": '// entry\n//#include "lib/body.wgsl"\n' + MAIN,
      "lib/body.wgsl": '//#include "common.wgsl"\nvar<private> b: u32;\n',
      "lib/common.wgsl": "// common\n" + PARAMS,
    });
    const e = expandWgsl(join(dir, "k.wgsl"));
    const text = e.text.split("\n");
    expect(text).toContain("var<private> b: u32;");
    expect(e.text).not.toMatch(/^\s*\/\/#include/m);
    expect(text.indexOf("// common")).toBeLessThan(text.indexOf("var<private> b: u32;"));
    expect(e.lines).toHaveLength(text.length - 1); // the text ends with a newline
    const at = e.lines[text.indexOf("var<private> b: u32;")]!;
    expect([basename(at.file), at.line]).toEqual(["body.wgsl", 2]);
    const p = e.lines[text.findIndex((l) => l.startsWith("struct P"))]!;
    expect([basename(p.file), p.line]).toEqual(["common.wgsl", 2]);
    expect(e.files.map((f) => basename(f))).toEqual(["k.wgsl", "body.wgsl", "common.wgsl"]);
    expect(text).toContain("// ---- begin lib/common.wgsl ----");
  });

  it("includes a file once per kernel", () => {
    const dir = tree({
      "k.wgsl": '//#include "a.wgsl"\n//#include "b.wgsl"\n' + MAIN,
      "a.wgsl": '//#include "common.wgsl"\nfn a() {}\n',
      "b.wgsl": '//#include "common.wgsl"\nfn b() {}\n',
      "common.wgsl":
        PARAMS +
        "@group(0) @binding(1) var<storage, read> x: array<f32>;\n" +
        "@group(0) @binding(2) var<storage, read_write> y: array<f32>;\n",
    });
    const { text } = expandWgsl(join(dir, "k.wgsl"));
    expect(text.match(/^struct P/gm)).toHaveLength(1);
    expect(text).toContain("// ---- common.wgsl: already included above ----");
    // and the result is one valid module
    const r = loadWgsl(join(dir, "k.wgsl"), reflectKernel).reflection as ReflectedKernel;
    expect(r.bindings.map((b) => b.name)).toEqual(["params", "x", "y"]);
  });

  it("refuses a cycle, naming the include that closes it", () => {
    const dir = tree({
      "k.wgsl": '//#include "a.wgsl"\n' + MAIN,
      "a.wgsl": '// a\n//#include "b.wgsl"\n',
      "b.wgsl": '// b\n\n//#include "a.wgsl"\n',
    });
    expect(() => expandWgsl(join(dir, "k.wgsl"))).toThrow(
      /b\.wgsl:3: include cycle: a\.wgsl → b\.wgsl → a\.wgsl/,
    );
    const self = tree({ "k.wgsl": '//#include "k.wgsl"\n' });
    expect(() => expandWgsl(join(self, "k.wgsl"))).toThrow(/k\.wgsl:1: include cycle/);
  });

  it("refuses a missing include and a malformed include line, naming file and line", () => {
    const dir = tree({
      "k.wgsl": '//#include "lib/a.wgsl"\n' + MAIN,
      "lib/a.wgsl": '// a\n//#include "nope.wgsl"\n',
      "bad.wgsl": "// x\n\n//#include nope.wgsl\n",
    });
    expect(() => expandWgsl(join(dir, "k.wgsl"))).toThrow(
      /lib\/a\.wgsl:2: include not found: .*lib\/nope\.wgsl/,
    );
    expect(() => expandWgsl(join(dir, "bad.wgsl"))).toThrow(
      /bad\.wgsl:3: expected \/\/#include "file\.wgsl"/,
    );
  });

  it("leaves an element-type alias to wgsl_reflect, which resolves it", () => {
    const body =
      PARAMS +
      "@group(0) @binding(1) var<storage, read> x: array<T>;\n" +
      "@group(0) @binding(2) var<storage, read_write> y: array<vec4<T>>;\n" +
      MAIN;
    const dir = tree({
      "k32.wgsl": 'alias T = f32;\n//#include "body.wgsl"\n',
      "k16.wgsl": 'enable f16;\nalias T = f16;\n//#include "body.wgsl"\n',
      "body.wgsl": body,
    });
    const k16 = loadWgsl(join(dir, "k16.wgsl"), reflectKernel);
    expect(k16.text.split("\n").slice(0, 2)).toEqual(["enable f16;", "alias T = f16;"]);
    const k32 = loadWgsl(join(dir, "k32.wgsl"), reflectKernel);
    expect(k16.reflection).toEqual(k32.reflection);
    // wgsl_reflect sees through the alias: the same module spelled out reflects alike
    const spelled = reflectKernel("spelled", body.replaceAll("<T>", "<f16>"));
    expect(k16.reflection).toEqual(spelled);
  });

  it("maps a parse error and a reflection refusal to the body file and line", () => {
    const dir = tree({
      "k.wgsl": '// entry\nalias T = f32;\n//#include "body.wgsl"\n',
      "body.wgsl": PARAMS + "\nfn broken( {}\n" + MAIN,
      "g.wgsl": '// entry\n//#include "group.wgsl"\n',
      "group.wgsl":
        "// one\n// two\n" + PARAMS + "@group(1) @binding(0) var<storage> z: array<f32>;\n" + MAIN,
    });
    expect(() => loadWgsl(join(dir, "k.wgsl"), reflectKernel)).toThrow(
      /^.*body\.wgsl:4: .*Line: 7.* \(expanded line 7\)$/,
    );
    expect(() => loadWgsl(join(dir, "g.wgsl"), reflectKernel)).toThrow(
      /^.*group\.wgsl:5: kernel g: binding z is in group 1/,
    );
  });
});

const SHADERS = join(__dirname, "..", "shaders");
const entries = readdirSync(SHADERS).filter((f) => f.endsWith(".wgsl"));
const bodies = readdirSync(join(SHADERS, "include")).map((f) => join(SHADERS, "include", f));

describe("the shipped shaders", () => {
  it("are the registry's kernels, fully expanded, and every file opens with a comment", () => {
    expect(entries.map((f) => basename(f, ".wgsl")).sort()).toEqual(
      Object.keys(KERNEL_SOURCES).sort(),
    );
    for (const [name, source] of Object.entries(KERNEL_SOURCES)) {
      expect(source, name).not.toMatch(/^\s*\/\/#include/m);
    }
    for (const file of [...entries.map((f) => join(SHADERS, f)), ...bodies]) {
      expect(readFileSync(file, "utf8"), file).toMatch(/^\/\/ \S/);
    }
  });

  it("use every body in shaders/include/", () => {
    const used = new Set(entries.flatMap((f) => expandWgsl(join(SHADERS, f)).files));
    for (const body of bodies) expect(used.has(body), body).toBe(true);
  });

  it("f32 and f16 twins share their body and reflect alike (but for F32_MATH)", () => {
    const pairs: [KernelName, KernelName][] = [
      ["conv2d_tiled", "conv2d_tiled_f16"],
      ["instance_norm", "instance_norm_f16"],
      ["instance_norm", "instance_norm_vec4"],
      ["mean_pool", "mean_pool_f16"],
      ["to_f16", "from_f16"],
    ];
    for (const [a, b] of pairs) {
      const ra = reflectKernel(a, KERNEL_SOURCES[a]);
      const rb = reflectKernel(b, KERNEL_SOURCES[b]);
      expect(ra.bindings, b).toEqual(rb.bindings);
      expect(ra.params, b).toEqual(rb.params);
      expect(
        rb.overrides.filter((o) => o !== "F32_MATH"),
        b,
      ).toEqual(ra.overrides);
    }
  });

  it("dist/shaders/ holds each kernel's expanded text, as the GPU gets it", () => {
    const dist = join(__dirname, "..", "dist", "shaders");
    expect(existsSync(dist), "run node scripts/build.mjs first").toBe(true);
    for (const [name, source] of Object.entries(KERNEL_SOURCES)) {
      expect(readFileSync(join(dist, `${name}.wgsl`), "utf8"), name).toBe(source);
    }
  });
});

describe("the row-tiled convolutions' PHASES path", () => {
  const up2 = { KSIZE: 5, STRIDE: 1, UPSAMPLE: 2, PHASES: true };
  it("serves the decoder's 5×5 ×2-upsampled stride-1 shape", () => {
    expect(() => checkOverrides("conv2d_direct", up2)).not.toThrow();
    expect(() => checkOverrides("conv2d_subgroup", up2)).not.toThrow();
    expect(() =>
      checkOverrides("conv2d_direct", { ...up2, STRIDE: 2, PHASES: false }),
    ).not.toThrow();
  });

  it("refuses any other shape before touching the device", () => {
    const device = {} as GPUDevice; // any GPU call on it would throw a TypeError
    for (const bad of [{ STRIDE: 2 }, { KSIZE: 3 }, { UPSAMPLE: 1 }, { KSIZE: undefined }]) {
      const overrides = Object.fromEntries(
        Object.entries({ ...up2, ...bad }).filter(([, v]) => v !== undefined),
      ) as Record<string, number | boolean>;
      for (const kernel of ["conv2d_direct", "conv2d_subgroup"] as const) {
        expect(() => getKernel(device, kernel, overrides), JSON.stringify(bad)).toThrow(
          new RegExp(`kernel ${kernel}: PHASES needs KSIZE 5, STRIDE 1 and UPSAMPLE 2`),
        );
      }
    }
  });
});
