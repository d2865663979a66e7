/**
 * The style to generate with, from whichever source the style panel has selected: K reference
 * glyphs of a held-out font, uploaded or drawn glyphs (each encoded to a class code once per set,
 * cached by a key naming the set), or an imported code; then blended with a second font's code when
 * the blend panel names one. The panels under web/panels/ fill the sources; this module only reads
 * them.
 */
import { interpolateClassCodes, type ImageRGBA } from "../src/index";
import { fontReferences } from "./assets";
import type { Demo, RunResult, SourceKind } from "./state";
import { UserError } from "./ui";

export interface Style {
  code: Float32Array;
  references: ImageRGBA[];
  blend: RunResult["blend"];
}

export function sourceKind(): SourceKind {
  return document.querySelector<HTMLInputElement>("input[name=source]:checked")!
    .value as SourceKind;
}

/** Selects a source's radio button and shows only that source's controls. */
export function setSource(kind: SourceKind): void {
  document.querySelector<HTMLInputElement>(`input[name=source][value=${kind}]`)!.checked = true;
  for (const el of document.querySelectorAll<HTMLElement>(".source"))
    el.hidden = el.dataset.source !== kind;
}

/** The selected style's references (and a key naming them), or an error message for the user. */
async function styleReferences(
  { ui, state }: Demo,
  kind: SourceKind,
): Promise<{ key: string; refs: ImageRGBA[] }> {
  switch (kind) {
    case "font": {
      const k = Number(ui.k.value);
      return {
        key: `font:${ui.font.value}:${k}`,
        refs: await fontReferences(state, ui.font.value, k),
      };
    }
    case "upload":
      if (!state.uploaded.glyphs.length) throw new UserError("upload 1 to 10 glyph images first");
      return { key: `upload:${state.uploaded.version}`, refs: state.uploaded.glyphs };
    case "draw":
      if (!state.drawn.glyphs.length)
        throw new UserError("draw a glyph on the pad and press “Add glyph” first");
      return { key: `draw:${state.drawn.version}`, refs: [...state.drawn.glyphs] };
    default:
      throw new Error(`no references for ${kind}`);
  }
}

/** The class code of a set of references, encoded once per key. */
function encode({ state }: Demo, key: string, refs: ImageRGBA[]): Promise<Float32Array> {
  let p = state.codes.get(key);
  if (!p) {
    if (!state.engine) throw new Error("the model is not loaded yet");
    p = state.engine.encodeClass(refs);
    p.catch(() => state.codes.delete(key));
    state.codes.set(key, p);
  }
  return p;
}

/** The class code to generate with: the selected style, blended with a second font if chosen. */
export async function currentStyle(demo: Demo): Promise<Style> {
  const { ui, state } = demo;
  const kind = sourceKind();
  let code: Float32Array;
  let references: ImageRGBA[] = [];
  if (kind === "imported") {
    if (!state.imported) throw new UserError("import a style's 64 numbers first");
    code = state.imported;
  } else {
    const { key, refs } = await styleReferences(demo, kind);
    references = refs;
    code = await encode(demo, key, refs);
  }
  const blendFont = ui.blendFont.value;
  if (!blendFont) return { code, references, blend: null };
  const k = Number(ui.k.value);
  const other = await encode(
    demo,
    `font:${blendFont}:${k}`,
    await fontReferences(state, blendFont, k),
  );
  const t = Number(ui.blend.value);
  return { code: interpolateClassCodes(code, other, t), references, blend: { font: blendFont, t } };
}
