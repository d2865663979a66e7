/** WGSL shader files import as their source text (esbuild text loader, vitest plugin). */
declare module "*.wgsl" {
  const source: string;
  export default source;
}

/** wgsl_reflect's ES module build, imported by path (see src/runtime/kernels.ts). */
declare module "wgsl_reflect/wgsl_reflect.module.js" {
  export * from "wgsl_reflect";
}
