/**
 * The few parts of opentype.js 2.x and wawoff2's encoder that the font writer uses (neither ships types).
 */
declare module "opentype.js/dist/opentype.mjs" {
  export class Path {
    commands: object[];
    moveTo(x: number, y: number): void;
    lineTo(x: number, y: number): void;
    bezierCurveTo(x1: number, y1: number, x2: number, y2: number, x: number, y: number): void;
    close(): void;
  }
  export class Glyph {
    constructor(options: { name: string; unicode?: number; advanceWidth: number; path: Path });
  }
  export function parse(buffer: ArrayBuffer): Font;
  export class Font {
    constructor(options: Record<string, unknown>);
    names: Record<string, Record<string, Record<string, string>>>;
    toArrayBuffer(): ArrayBuffer;
    unitsPerEm: number;
    charToGlyph(ch: string): {
      index: number;
      advanceWidth: number;
      path: { commands: object[] };
    };
  }
}

declare module "wawoff2/compress.js" {
  export default function compress(buffer: Uint8Array): Promise<Uint8Array>;
}
