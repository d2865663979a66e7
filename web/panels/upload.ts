/**
 * The "uploaded glyphs" source: 1 to MAX_REFS image files of any size and format the browser can
 * decode, each turned into a 64×64 grey glyph on white; a new set replaces the old one and selects
 * this source.
 */
import { toGlyph } from "../assets";
import { MAX_REFS, type Demo, type Panel } from "../state";
import { setSource } from "../style";
import { report, showStrip, UserError } from "../ui";

async function readUploads({ ui, state }: Demo, files: FileList): Promise<void> {
  const list = [...files];
  if (list.length === 0) return;
  if (list.length > MAX_REFS) {
    report(ui.report, `choose at most ${MAX_REFS} images (got ${list.length})`);
    return;
  }
  try {
    state.uploaded.glyphs = await Promise.all(
      list.map(async (f) => {
        const bitmap = await createImageBitmap(f).catch(() => {
          throw new UserError(`${f.name} is not an image this browser can read`);
        });
        const glyph = toGlyph(bitmap, bitmap.width, bitmap.height);
        bitmap.close();
        return glyph;
      }),
    );
    state.uploaded.version++;
    showStrip(ui.uploadRefs, state.uploaded.glyphs);
    report(ui.report, "");
    setSource("upload");
  } catch (e) {
    report(ui.report, (e as Error).message);
  }
}

export const uploadPanel: Panel = {
  setup(demo) {
    const { upload } = demo.ui;
    upload.addEventListener("change", () => void readUploads(demo, upload.files!));
  },
};
