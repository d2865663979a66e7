/**
 * The few-shot Hangul font page (web/index.html): loads the shipped model
 * (weights/hangul64-f16.safetensors) and the glyph atlases over http, lets the user pick a style
 * (K = 1…10 reference glyphs of one of the 8 held-out fonts, uploaded glyph images, glyphs drawn on
 * a pad, or an imported class code), blends it with a second font's code, and writes the typed text
 * syllable by syllable, drawing each glyph as it arrives. This entry module only starts the page:
 * the state lives in one object (web/state.ts), the engine behind web/engine.ts, the style in
 * web/style.ts, the writing in web/generate.ts, and each control panel in its own module under
 * web/panels/, listed once in PANELS below (a new panel is one more entry there).
 */
import { SOURCE_ATLAS } from "../src/glyphs";
import { loadAtlas } from "./assets";
import { loadEngine, requestDevice } from "./engine";
import { blendPanel } from "./panels/blend";
import { codePanel } from "./panels/code";
import { drawPanel } from "./panels/draw";
import { fontPanel } from "./panels/font";
import { sourcesPanel } from "./panels/sources";
import { textPanel } from "./panels/text";
import { uploadPanel } from "./panels/upload";
import { createState, type Demo, type Panel } from "./state";
import { installTestHook } from "./test-hook";
import { findUi, report, UserError } from "./ui";
import { loadWeightsShown } from "./weights";

const WEIGHTS_URL = "../weights/hangul64-f16.safetensors";

/** The page's control panels; their hooks run in this order. */
const PANELS: Panel[] = [
  sourcesPanel,
  uploadPanel,
  drawPanel,
  blendPanel,
  codePanel,
  textPanel,
  fontPanel,
];

async function start(demo: Demo): Promise<void> {
  const { ui, state } = demo;
  for (const panel of PANELS) panel.setup?.(demo);
  const device = await requestDevice((m) => report(ui.report, m));
  ui.status.textContent = "Loading the model and glyphs…";
  const [weights, atlas] = await Promise.all([
    loadWeightsShown(WEIGHTS_URL, document.getElementById("weights")!),
    loadAtlas(SOURCE_ATLAS),
    ...PANELS.map((panel) => panel.load?.(demo)),
  ]);
  state.source = atlas;
  state.engine = await loadEngine(device, weights);
  ui.adapter.textContent = state.engine.adapterText;
  ui.status.textContent = "Ready: type Hangul text, pick a style, press Generate.";
  ui.status.className = "status ok";
  for (const panel of PANELS) panel.ready?.(demo);
}

const demo: Demo = { ui: findUi(), state: createState() };
const started = start(demo);
started.catch((e) => {
  const { status } = demo.ui;
  status.textContent =
    e instanceof UserError ? e.message : `The demo could not start: ${(e as Error).message}`;
  status.className = "status error";
  if (!(e instanceof UserError)) console.error(e);
});
installTestHook(demo, started);
