/**
 * The "drawn glyphs" source: a pad drawn on with the mouse, pen or finger (pointer events, strokes
 * about as wide as the atlas fonts' at 64×64); "Add glyph" keeps the pad's picture as a reference
 * (up to MAX_REFS) and selects this source, "Clear pad" wipes the pad, "Remove all" the references.
 */
import { toGlyph } from "../assets";
import { MAX_REFS, type Panel } from "../state";
import { setSource } from "../style";
import { byId, report, showStrip } from "../ui";

export const drawPanel: Panel = {
  setup({ ui, state }) {
    const { pad } = ui;
    const drawn = state.drawn;
    const ctx = pad.getContext("2d", { willReadFrequently: true })!;
    const clear = () => {
      ctx.fillStyle = "#fff";
      ctx.fillRect(0, 0, pad.width, pad.height);
    };
    clear();
    let last: { x: number; y: number } | null = null;
    const at = (e: PointerEvent) => {
      const r = pad.getBoundingClientRect();
      return {
        x: ((e.clientX - r.left) * pad.width) / r.width,
        y: ((e.clientY - r.top) * pad.height) / r.height,
      };
    };
    pad.addEventListener("pointerdown", (e) => {
      last = at(e);
      pad.setPointerCapture(e.pointerId);
    });
    pad.addEventListener("pointermove", (e) => {
      if (!last) return;
      const p = at(e);
      ctx.strokeStyle = "#000";
      ctx.lineWidth = pad.width / 18; // about the stroke width of the atlas fonts at 64×64
      ctx.lineCap = ctx.lineJoin = "round";
      ctx.beginPath();
      ctx.moveTo(last.x, last.y);
      ctx.lineTo(p.x, p.y);
      ctx.stroke();
      last = p;
    });
    const stop = () => {
      last = null;
    };
    pad.addEventListener("pointerup", stop);
    pad.addEventListener("pointercancel", stop);
    byId("pad-clear").addEventListener("click", clear);
    byId("pad-add").addEventListener("click", () => {
      if (drawn.glyphs.length >= MAX_REFS) {
        report(ui.report, `at most ${MAX_REFS} drawn glyphs`);
        return;
      }
      drawn.glyphs.push(toGlyph(pad, pad.width, pad.height));
      drawn.version++;
      showStrip(ui.drawRefs, drawn.glyphs);
      clear();
      setSource("draw");
    });
    byId("pad-reset").addEventListener("click", () => {
      drawn.glyphs.length = 0;
      drawn.version++;
      showStrip(ui.drawRefs, drawn.glyphs);
      clear();
    });
  },
};
