/** WGSL shader files import as their source text (esbuild text loader, vitest plugin). */
declare module "*.wgsl" {
  const source: string;
  export default source;
}
