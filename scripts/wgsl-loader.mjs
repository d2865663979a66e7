// How a `.wgsl` import becomes a JS module, for esbuild (scripts/build.mjs) and vitest
// (vitest.config.ts) alike: the expanded source text as the default export, and `reflection`, its
// bindings, params layout and overrides from src/runtime/reflect.ts (wgsl_reflect), computed here
// at build time so the bundles carry JSON instead of the WGSL parser.
//
// Expansion, the one step before reflection: a line `//#include "path.wgsl"` (alone on its line,
// the path relative to the including file) is replaced by that file's expanded text, between two
// marker comments that name it. A file is included once per kernel (a second include of it becomes
// a comment), and a file that includes itself through a chain is an error. That is all: no macros,
// no conditionals. Shapes stay `override` constants, and an entry file picks its element type with
// a plain WGSL alias (`alias T = f32;` or `enable f16; alias T = f16;`) before including its body,
// which wgsl_reflect resolves itself, so the loader leaves aliases alone.
//
// Every expanded line remembers its source file and line, so a build error (an include not found,
// a cycle, a WGSL parse error or a reflection refusal) names the body file and line, not a line of
// the expanded text.
import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, relative, resolve } from "node:path";

const INCLUDE = /^\s*\/\/#include\b(.*)$/;
const INCLUDE_PATH = /^\s+"([^"]+)"\s*$/;

/** A path for messages: relative to the working directory when inside it. */
function shown(file) {
  const r = relative(process.cwd(), file);
  return r && !r.startsWith("..") ? r : file;
}

/** A file and line, for messages. */
function where(file, line) {
  return `${shown(file)}:${line}`;
}

/**
 * Expands the includes of one WGSL file: `text`, `lines` (for each line of `text`, the
 * `{ file, line }` it came from, 1-based) and `files` (every file read, the entry first).
 */
export function expandWgsl(file) {
  const entry = resolve(file);
  // Marker comments name files from the entry's folder, so the text is the same wherever the
  // build runs.
  const home = dirname(entry);
  const out = [];
  const lines = [];
  const included = new Set();
  const stack = [];
  const visit = (path, from) => {
    if (stack.includes(path)) {
      const chain = [...stack.slice(stack.indexOf(path)), path].map((p) => basename(p));
      throw new Error(`${from}: include cycle: ${chain.join(" → ")}`);
    }
    if (!existsSync(path)) {
      throw new Error(`${from ? `${from}: include not found` : "not found"}: ${shown(path)}`);
    }
    included.add(path);
    stack.push(path);
    readFileSync(path, "utf8")
      .replace(/\r?\n$/, "")
      .split(/\r?\n/)
      .forEach((text, i) => {
        const at = { file: path, line: i + 1 };
        const m = INCLUDE.exec(text);
        if (!m) {
          out.push(text);
          lines.push(at);
          return;
        }
        const name = INCLUDE_PATH.exec(m[1])?.[1];
        if (!name) throw new Error(`${where(path, i + 1)}: expected //#include "file.wgsl"`);
        const target = resolve(dirname(path), name);
        if (included.has(target) && !stack.includes(target)) {
          out.push(`// ---- ${relative(home, target)}: already included above ----`);
          lines.push(at);
          return;
        }
        out.push(`// ---- begin ${relative(home, target)} ----`);
        lines.push(at);
        visit(target, where(path, i + 1));
        out.push(`// ---- end ${relative(home, target)} ----`);
        lines.push(at);
      });
    stack.pop();
  };
  visit(entry, undefined);
  return { text: out.join("\n") + "\n", lines, files: [...included] };
}

/**
 * Rewrites an error about expanded text to name the source file and line: a `Line: N` in
 * wgsl_reflect's messages, or else the declaration of the binding or field a reflection
 * refusal names.
 */
function locate(error, expanded) {
  const message = error instanceof Error ? error.message : String(error);
  let line = Number(/Line: (\d+)/.exec(message)?.[1] ?? 0);
  const named = /(?:binding|storage texture|params field) (\w+)/.exec(message)?.[1];
  if (!line && named) {
    const declares = new RegExp(`(?:\\bvar(?:<[^>]*>)?\\s+|^\\s*)${named}\\s*:`);
    line = expanded.text.split("\n").findIndex((l) => declares.test(l)) + 1;
  }
  const at = expanded.lines[line - 1];
  if (!at) return new Error(`${where(expanded.files[0], 1)}: ${message}`);
  return new Error(`${where(at.file, at.line)}: ${message} (expanded line ${line})`);
}

/**
 * The expanded text and reflection of one WGSL entry file, with `files` (what it read, for
 * watchers). `reflectKernel` is src/runtime/reflect.ts's; errors name the source file and line.
 */
export function loadWgsl(file, reflectKernel) {
  const expanded = expandWgsl(file);
  let reflection;
  try {
    reflection = reflectKernel(basename(file, ".wgsl"), expanded.text);
  } catch (e) {
    throw locate(e, expanded);
  }
  return { text: expanded.text, reflection, files: expanded.files };
}

/** The module text for one WGSL entry file. */
export function wgslModule(file, reflectKernel) {
  return moduleText(loadWgsl(file, reflectKernel));
}

function moduleText({ text, reflection }) {
  const json = JSON.stringify(reflection);
  return `export default ${JSON.stringify(text)};\nexport const reflection = ${json};\n`;
}

/** An esbuild plugin that loads `.wgsl` files with wgslModule, watching their includes. */
export function wgslPlugin(reflectKernel) {
  return {
    name: "wgsl",
    setup(b) {
      b.onLoad({ filter: /\.wgsl$/ }, (args) => {
        const loaded = loadWgsl(args.path, reflectKernel);
        return { contents: moduleText(loaded), loader: "js", watchFiles: loaded.files };
      });
    },
  };
}
