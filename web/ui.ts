/**
 * The page's shared elements and the small DOM helpers every module uses: `findUi` looks up, once,
 * the elements that more than one module reads or writes (a panel's private elements stay in its
 * own module); `report` shows a message in one of the page's report lines; `showStrip` shows
 * glyphs as a row of small canvases. `UserError` marks a failure the user can fix (a missing
 * upload, no WebGPU): it is shown as it is, where any other error is prefixed and also logged.
 */
import type { ImageRGBA } from "../src/index";

/** A failure the user can act on: its message is shown on the page as it is. */
export class UserError extends Error {}

export const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/** The page's shared elements, by role (ids in web/index.html). */
export function findUi() {
  return {
    status: byId<HTMLParagraphElement>("status"),
    adapter: byId<HTMLParagraphElement>("adapter"),
    text: byId<HTMLInputElement>("text"),
    generate: byId<HTMLButtonElement>("generate"),
    report: byId<HTMLParagraphElement>("report"),
    font: byId<HTMLSelectElement>("font"),
    k: byId<HTMLInputElement>("k"),
    kValue: byId<HTMLOutputElement>("k-value"),
    fontRefs: byId<HTMLDivElement>("font-refs"),
    upload: byId<HTMLInputElement>("upload"),
    uploadRefs: byId<HTMLDivElement>("upload-refs"),
    pad: byId<HTMLCanvasElement>("pad"),
    drawRefs: byId<HTMLDivElement>("draw-refs"),
    blendFont: byId<HTMLSelectElement>("blend-font"),
    blend: byId<HTMLInputElement>("blend"),
    blendValue: byId<HTMLOutputElement>("blend-value"),
    code: byId<HTMLTextAreaElement>("code"),
    codeMessage: byId<HTMLParagraphElement>("code-message"),
    download: byId<HTMLAnchorElement>("download"),
    output: byId<HTMLCanvasElement>("output"),
    source: byId<HTMLCanvasElement>("source"),
    timing: byId<HTMLParagraphElement>("timing"),
  };
}

export type Ui = ReturnType<typeof findUi>;

export function report(
  el: HTMLElement,
  message: string,
  kind: "error" | "warn" | "ok" = "error",
): void {
  el.textContent = message;
  el.className = `report ${kind}`;
  el.hidden = message === "";
}

export function imageData(img: ImageRGBA): ImageData {
  return new ImageData(new Uint8ClampedArray(img.data), img.width, img.height);
}

/** Shows glyphs as a row of small canvases. */
export function showStrip(strip: HTMLElement, glyphs: ImageRGBA[]): void {
  strip.replaceChildren(
    ...glyphs.map((g) => {
      const c = document.createElement("canvas");
      c.width = g.width;
      c.height = g.height;
      c.getContext("2d")!.putImageData(imageData(g), 0, 0);
      return c;
    }),
  );
}
