/**
 * A style as its class code's numbers: "Export" writes the current style (blend included) as JSON
 * into the text box and offers it as a file; "Import" reads a code from the text box or a file,
 * checks its length against the model's, and selects it as the style.
 */
import { classCodeFromJSON, classCodeToJSON } from "../../src/index";
import type { Demo, Panel } from "../state";
import { currentStyle, setSource } from "../style";
import { byId, report } from "../ui";

function importCode({ ui, state }: Demo, text: string): boolean {
  try {
    if (!state.engine) throw new Error("the model is not loaded yet");
    state.imported = classCodeFromJSON(text.trim(), state.engine.latentDim);
    report(ui.codeMessage, `imported a style of ${state.imported.length} numbers`, "ok");
    setSource("imported");
    return true;
  } catch (e) {
    report(ui.codeMessage, `cannot import: ${(e as Error).message}`);
    return false;
  }
}

async function exportCode(demo: Demo): Promise<void> {
  const { ui } = demo;
  try {
    const { code } = await currentStyle(demo);
    ui.code.value = classCodeToJSON(code);
    ui.download.href = URL.createObjectURL(new Blob([ui.code.value], { type: "application/json" }));
    ui.download.hidden = false;
    report(ui.codeMessage, `exported ${code.length} numbers`, "ok");
  } catch (e) {
    report(ui.codeMessage, (e as Error).message);
  }
}

export const codePanel: Panel = {
  setup(demo) {
    const { ui } = demo;
    byId("export").addEventListener("click", () => void exportCode(demo));
    byId("import").addEventListener("click", () => void importCode(demo, ui.code.value));
    byId<HTMLInputElement>("import-file").addEventListener("change", async (e) => {
      const file = (e.target as HTMLInputElement).files?.[0];
      if (!file) return;
      ui.code.value = await file.text();
      importCode(demo, ui.code.value);
    });
  },
};
