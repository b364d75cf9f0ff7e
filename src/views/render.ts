import type { VNode } from 'preact';
import { render } from 'preact-render-to-string';

/**
 * A page as its HTML text. The views are TSX on Preact: every value put in a page is escaped by the renderer, in
 * text and in attributes alike. The two ways around it are explicit and few: the stylesheet, and the charts' SVG
 * (made by src/core/charts, which escapes its own text), each through `dangerouslySetInnerHTML`.
 */
export function renderPage(page: VNode): string {
  return `<!doctype html>\n${render(page)}\n`;
}
