/**
 * WGSL shader files import as their source text and its reflection (bindings, params layout,
 * overrides), made at build time by scripts/wgsl-loader.mjs for esbuild and vitest alike.
 */
declare module "*.wgsl" {
  const source: string;
  export default source;
  export const reflection: import("./runtime/reflect").ReflectedKernel;
}

/** wgsl_reflect's ES module build, imported by path (see src/runtime/reflect.ts). */
declare module "wgsl_reflect/wgsl_reflect.module.js" {
  export * from "wgsl_reflect";
}
