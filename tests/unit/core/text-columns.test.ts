import { describe, expect, test } from '@jest/globals';
import { displayWidth, fitToWidth, truncateToWidth } from '../../../src/core/text/columns.js';

describe('terminal columns by grapheme and display width', () => {
  test('an emoji family, a flag and wide characters are measured as they show', () => {
    expect(displayWidth('👩‍👩‍👧')).toBe(2);
    expect(displayWidth('🇮🇩')).toBe(2);
    expect(displayWidth('日本語')).toBe(6);
    expect(displayWidth('Café')).toBe(4);
  });

  test('cutting never splits a grapheme, and marks the cut', () => {
    const cut = truncateToWidth('Promo 👩‍👩‍👧 family bundle', 8);
    expect(cut).toBe('Promo …');
    expect(displayWidth(cut)).toBeLessThanOrEqual(8);
    expect(cut.isWellFormed()).toBe(true); // no half of an emoji (a lone surrogate)
    expect(truncateToWidth('日本語のキャンペーン', 7)).toBe('日本語…');
    expect(truncateToWidth('short', 8)).toBe('short');
  });

  test('fitting pads to exactly the width in cells, left or right', () => {
    for (const s of ['Ads 🚀 launch', '広告キャンペーン秋', 'plain', 'e\u0301te\u0301']) {
      expect({ s, width: displayWidth(fitToWidth(s, 10)) }).toEqual({ s, width: 10 });
    }
    expect(fitToWidth('85.88', 6, 'right')).toBe(' 85.88');
  });
});
