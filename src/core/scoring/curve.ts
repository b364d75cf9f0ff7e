import { add, compare, div, mul, sub, type Rational } from '../rational.js';
import type { Breakpoint } from './config.js';

/**
 * scoring.md section 3: y1 at or below x1, yn at or above xn, linear
 * interpolation between the two breakpoints around x otherwise.
 */
export function curve(x: Rational, points: readonly Breakpoint[]): Rational {
  const first = points[0];
  const last = points[points.length - 1];
  if (!first || !last) throw new RangeError('curve needs at least one breakpoint');
  if (compare(x, first.x) <= 0) return first.y;
  if (compare(x, last.x) >= 0) return last.y;
  for (let i = 1; i < points.length; i++) {
    const hi = points[i]!;
    if (compare(x, hi.x) <= 0) {
      const lo = points[i - 1]!;
      return add(lo.y, div(mul(sub(x, lo.x), sub(hi.y, lo.y)), sub(hi.x, lo.x)));
    }
  }
  return last.y;
}
