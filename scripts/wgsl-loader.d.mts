// Types of scripts/wgsl-loader.mjs, for vitest.config.ts and the tests.
type Reflect = (name: string, source: string) => unknown;
/** Where one expanded line came from: a file and its 1-based line. */
export interface SourceLine {
  file: string;
  line: number;
}
export interface ExpandedWgsl {
  text: string;
  lines: SourceLine[];
  files: string[];
}
export function expandWgsl(file: string): ExpandedWgsl;
export function loadWgsl(
  file: string,
  reflectKernel: Reflect,
): { text: string; reflection: unknown; files: string[] };
export function wgslModule(file: string, reflectKernel: Reflect): string;
export function wgslPlugin(reflectKernel: Reflect): import("esbuild").Plugin;
