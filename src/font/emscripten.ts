/**
 * Loading Emscripten-built WebAssembly glue (potrace, wawoff2) in an ES module. When the glue sees a
 * `process` global (Node, Deno) it takes Node's path and evaluates `require` and `__dirname` at
 * start-up, although both packages inline their wasm and never read a file; in an ES module neither
 * exists, so harmless stand-ins are defined only while the glue module evaluates, then removed.
 */
export async function importEmscripten<T>(load: () => Promise<T>): Promise<T> {
  const g = globalThis as Record<string, unknown>;
  const shimmed = ["require", "__dirname"].filter((name) => !(name in g));
  g.require ??= () => ({});
  g.__dirname ??= "";
  try {
    return await load();
  } finally {
    for (const name of shimmed) delete g[name];
  }
}
