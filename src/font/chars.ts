/**
 * Which characters a font gets: `ks`, the 2,350 KS X 1001 syllables; `all`, the 11,172 modern
 * syllables U+AC00–U+D7A3; or the distinct syllables of a text (whitespace ignored). Anything that
 * is not a modern Hangul syllable is refused with an error that names it.
 */
import { describeChar } from "../glyphs";
import { InputError } from "../errors";

export type FontCharSet = "ks" | "all" | string;

export const FIRST_SYLLABLE = 0xac00;
export const LAST_SYLLABLE = 0xd7a3;
export const KS_SYLLABLES = 2350;
export const ALL_SYLLABLES = LAST_SYLLABLE - FIRST_SYLLABLE + 1;

export function isModernSyllable(ch: string): boolean {
  const cp = ch.codePointAt(0)!;
  return cp >= FIRST_SYLLABLE && cp <= LAST_SYLLABLE;
}

/**
 * The characters of a character-set spec. `ksChars` is the KS X 1001 list (the source atlas's
 * characters), needed only for `ks`.
 */
export function fontChars(spec: FontCharSet, ksChars: readonly string[]): string[] {
  if (spec === "ks") return [...ksChars];
  if (spec === "all")
    return Array.from({ length: ALL_SYLLABLES }, (_, i) =>
      String.fromCodePoint(FIRST_SYLLABLE + i),
    );
  const chars = [...new Set([...spec].filter((ch) => !/\s/u.test(ch)))];
  if (chars.length === 0) throw new InputError("font: --chars has no syllables");
  const bad = chars.filter((ch) => !isModernSyllable(ch));
  if (bad.length)
    throw new InputError(
      `font: not a modern Hangul syllable (U+AC00–U+D7A3): ${bad.slice(0, 10).map(describeChar).join(", ")}`,
    );
  return chars;
}
