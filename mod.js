// The JSR entry of funit-webgpu (deno.json "exports"): the platform-neutral core, built to
// dist/index.js, with its bundled declarations, because the TypeScript sources import .wgsl files
// that only our build step (scripts/wgsl-loader.mjs) turns into modules.
// @ts-self-types="./dist/index.d.ts"
export * from "./dist/index.js";
