/**
 * funit-webgpu's font maker, an entry of its own so pages that only translate do not load the
 * tracer and font encoders: glyph images (or the engine and a style) in, OpenType and WOFF2 bytes
 * out. Browser-, Node- and Deno-safe: no Node built-ins here.
 */
export {
  fontFromGlyphs,
  generateFont,
  DEFAULT_FONT_BATCH,
  type FontOptions,
  type FontPhase,
  type FontProgress,
  type FontResult,
  type FontTimings,
  type FontEngine,
  type GenerateFontOptions,
} from "./generate";
export {
  createTracer,
  upsampleThreshold,
  DEFAULT_UPSAMPLE,
  DEFAULT_THRESHOLD,
  DEFAULT_CURVE_TOLERANCE,
  type GlyphOutline,
  type GlyphTracer,
  type OutlineCommand,
  type TraceOptions,
} from "./trace";
export {
  writeOpenType,
  encodeWoff2,
  checkFontRequest,
  postScriptName,
  HANGUL64_METRICS,
  UNITS_PER_EM,
  SPACE_ADVANCE,
  type CellMetrics,
  type FontNames,
  type TracedGlyph,
} from "./writer";
export { fontChars, KS_SYLLABLES, ALL_SYLLABLES, type FontCharSet } from "./chars";
