/**
 * Everything the page remembers between events, in one object (`DemoState`), and the `Demo` every
 * module is handed: that state plus the page's shared elements. Nothing else in web/ keeps mutable
 * module-level variables, so what a panel can change is visible here. Also `Panel`, the shape of a
 * control panel's module (web/panels/), and `RunResult`, what one generation used and produced
 * (what the browser test reads back through `window.funitDemo`).
 */
import type { ImageRGBA } from "../src/index";
import type { GlyphAtlas } from "../src/glyphs";
import type { Engine } from "./engine";
import type { Ui } from "./ui";

/** Most reference glyphs a style takes (uploaded or drawn). */
export const MAX_REFS = 10;

/** Where the style comes from: the radio buttons of the style panel. */
export type SourceKind = "font" | "upload" | "draw" | "imported";

/** Reference glyphs the user supplied; `version` names this set in the class-code cache. */
export interface GlyphSet {
  glyphs: ImageRGBA[];
  version: number;
}

/** What one generation used and produced: everything the browser test needs to recompute it. */
export interface RunResult {
  text: string;
  source: SourceKind;
  /** The reference glyphs encoded for the style (none for an imported code). */
  references: ImageRGBA[];
  blend: { font: string; t: number } | null;
  /** The class code every syllable was translated with. */
  code: Float32Array;
  /** Each distinct syllable generated, in order, with its source-font glyph and the output. */
  glyphs: { ch: string; content: ImageRGBA; output: ImageRGBA }[];
  /** Characters that could not be generated (not in the source atlas), each once. */
  missing: string[];
  msPerGlyph: number;
  cancelled: boolean;
}

export interface DemoState {
  /** The model on its device (web/engine.ts), once loaded. */
  engine: Engine | undefined;
  /** The source font's atlas: the content glyph of every syllable the page can write. */
  source: GlyphAtlas | undefined;
  /** Held-out fonts' atlases by font name, loaded on first use. */
  fontAtlases: Map<string, Promise<GlyphAtlas>>;
  uploaded: GlyphSet;
  drawn: GlyphSet;
  /** A class code imported as JSON. */
  imported: Float32Array | undefined;
  /** Class codes by style key, so that re-generating the same style does not re-encode it. */
  codes: Map<string, Promise<Float32Array>>;
  /** Counts generations started: a run that sees a newer one stops drawing. */
  runId: number;
  lastRun: RunResult | null;
}

export interface Demo {
  ui: Ui;
  state: DemoState;
}

export function createState(): DemoState {
  return {
    engine: undefined,
    source: undefined,
    fontAtlases: new Map(),
    uploaded: { glyphs: [], version: 0 },
    drawn: { glyphs: [], version: 0 },
    imported: undefined,
    codes: new Map(),
    runId: 0,
    lastRun: null,
  };
}

/**
 * A control panel of the page, in its own module under web/panels/ and listed once in web/demo.ts.
 * Hooks run in list order; a panel finds its own elements (byId) beyond the shared `demo.ui`.
 */
export interface Panel {
  /** At start-up, before anything loads (also when WebGPU is missing): fill controls, listen. */
  setup?(demo: Demo): void;
  /** Runs while the model loads, once WebGPU is known to work; reports its own failures. */
  load?(demo: Demo): Promise<void>;
  /** Once the model is loaded and `demo.state.engine` is set. */
  ready?(demo: Demo): void;
}
