// An esbuild plugin for browser bundles that include wawoff2 (the font panel's WOFF2 encoder):
// its Emscripten binding sets module.exports = Module only on Node's path, so in a browser bundle
// require() returns an empty object, onRuntimeInitialized is set on that, and compress() waits
// forever. Appending the export on every path makes the same file work in the page.
import { readFile } from "node:fs/promises";

export function wawoff2BrowserPlugin() {
  return {
    name: "wawoff2-browser",
    setup(build) {
      build.onLoad({ filter: /wawoff2[\\/]build[\\/]compress_binding\.js$/ }, async (args) => ({
        contents: `${await readFile(args.path, "utf8")}\nmodule.exports = Module;\n`,
        loader: "js",
      }));
    },
  };
}
