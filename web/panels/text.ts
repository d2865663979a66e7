/**
 * The text panel: once the model is loaded, the Generate button (and Enter in the text field)
 * writes the typed text in the current style (web/generate.ts).
 */
import { generateFromUi } from "../generate";
import type { Panel } from "../state";

export const textPanel: Panel = {
  ready(demo) {
    const { ui } = demo;
    ui.generate.disabled = false;
    ui.generate.addEventListener("click", () => void generateFromUi(demo));
    ui.text.addEventListener("keydown", (e) => {
      if (e.key === "Enter") void generateFromUi(demo);
    });
  },
};
