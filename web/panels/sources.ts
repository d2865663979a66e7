/**
 * The style panel's source picker and its first source: the radio buttons that choose where the
 * style comes from (a held-out font, uploads, the drawing pad, an imported code), and the held-out
 * font with K, whose reference glyphs are shown as soon as they are chosen.
 */
import { UNSEEN_FONTS } from "../../src/glyphs";
import { fontReferences } from "../assets";
import type { Demo, Panel, SourceKind } from "../state";
import { setSource } from "../style";
import { report, showStrip } from "../ui";

async function showFontRefs({ ui, state }: Demo): Promise<void> {
  ui.kValue.textContent = ui.k.value;
  try {
    showStrip(ui.fontRefs, await fontReferences(state, ui.font.value, Number(ui.k.value)));
  } catch (e) {
    report(ui.report, `cannot load the ${ui.font.value} glyphs: ${(e as Error).message}`);
  }
}

export const sourcesPanel: Panel = {
  setup(demo) {
    const { ui } = demo;
    for (const font of UNSEEN_FONTS) ui.font.add(new Option(font, font));
    for (const radio of document.querySelectorAll<HTMLInputElement>("input[name=source]"))
      radio.addEventListener("change", () => setSource(radio.value as SourceKind));
    ui.font.addEventListener("change", () => void showFontRefs(demo));
    ui.k.addEventListener("input", () => void showFontRefs(demo));
  },
  load: showFontRefs,
};
