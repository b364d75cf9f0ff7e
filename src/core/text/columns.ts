import stringWidth from 'string-width';

/**
 * Terminal columns by what a person sees: user-perceived characters
 * (graphemes: an emoji with its modifiers, a letter with its accents) and
 * their display width (East Asian wide characters and emoji take two cells).
 * Cutting UTF-16 units instead splits emoji and makes two names that differ
 * only after the cut print as the same line.
 */

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * Text from outside (a campaign name from the ad account, an id from a CSV) made safe to print on a terminal: C0 and
 * C1 control characters (ESC starts colour, cursor and OSC sequences; CR and LF rewrite or split lines) and the
 * bidirectional overrides and isolates (which reorder what follows) each become "?". Everything else is kept.
 */
export function terminalSafe(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this replaces
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/g, '?');
}

/** Display width of `text` in terminal cells. */
export function displayWidth(text: string): number {
  return stringWidth(text);
}

/** `text` cut to at most `width` cells, whole graphemes only, with "…" where it was cut. */
export function truncateToWidth(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  let out = '';
  let used = 0;
  for (const { segment } of graphemes.segment(text)) {
    const w = displayWidth(segment);
    if (used + w > width - 1) break;
    out += segment;
    used += w;
  }
  return `${out}…`;
}

/**
 * `text` cut to `width` cells and padded with spaces to exactly `width` cells (on the right, or on the left for
 * numbers).
 */
export function fitToWidth(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  const cut = truncateToWidth(text, width);
  const pad = ' '.repeat(Math.max(0, width - displayWidth(cut)));
  return align === 'left' ? cut + pad : pad + cut;
}
