/**
 * The blend control: a second held-out font whose class code is mixed into the style's (linear
 * interpolation, t from the slider). Letting go of the slider regenerates the text, since a
 * generation takes a second or so per glyph on a CPU adapter: not on every step of the slider.
 */
import { UNSEEN_FONTS } from "../../src/glyphs";
import { generateFromUi } from "../generate";
import type { Panel } from "../state";

export const blendPanel: Panel = {
  setup(demo) {
    const { ui } = demo;
    for (const font of UNSEEN_FONTS) ui.blendFont.add(new Option(font, font));
    ui.blendFont.addEventListener("change", () => {
      ui.blend.disabled = !ui.blendFont.value;
    });
    ui.blend.addEventListener("input", () => {
      ui.blendValue.textContent = Number(ui.blend.value).toFixed(2);
    });
    ui.blend.addEventListener("change", () => void generateFromUi(demo));
  },
};
