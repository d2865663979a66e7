// Types of scripts/wgsl-loader.mjs, for vitest.config.ts.
type Reflect = (name: string, source: string) => unknown;
export function wgslModule(file: string, reflectKernel: Reflect): string;
export function wgslPlugin(reflectKernel: Reflect): import("esbuild").Plugin;
