import { describe, expect, test } from '@jest/globals';
import { gammaP, gammaQ, inverseGammaP, logGamma } from '../../../src/core/scoring/gamma.js';

// Reference values computed once with scipy 1.17.1 (scipy.special.gammainc, gammaincc, gammaincinv, gammaln) on
// this machine and written in: the implementation under test shares no code with scipy's (Cephes).
const P_AND_Q: [a: number, x: number, p: number, q: number][] = [
  [0.5, 0.1, 0.34527915398142317, 0.6547208460185768],
  [0.5, 2.0, 0.9544997361036415, 0.04550026389635857],
  [1.0, 1.0, 0.6321205588285577, 0.36787944117144245],
  [2.5, 1.0, 0.15085496391539038, 0.8491450360846096],
  [3.0, 0.5, 0.014387677966970684, 0.9856123220330293],
  [3.0, 10.0, 0.9972306042844884, 0.0027693957155115775],
  [10.0, 3.0, 0.0011024881301154815, 0.9988975118698845],
  [10.0, 12.0, 0.7576078383294875, 0.24239216167051245],
  [0.05, 0.001, 0.7271792290529225, 0.27282077094707735],
  [150.0, 140.0, 0.2095436239186071, 0.790456376081393],
  [150.0, 170.0, 0.9443655686898067, 0.05563443131019331],
  [1000.0, 950.0, 0.055054686230738045, 0.9449453137692619],
  [2.0, 0.0001, 4.9996666791663435e-9, 0.9999999950003333],
  [30.5, 29.0, 0.41467404638785305, 0.5853259536121469],
];
const INVERSE: [a: number, p: number, x: number][] = [
  [0.5, 0.1, 0.00789538704671561],
  [0.5, 0.9, 1.352771727047702],
  [1.0, 0.5, 0.6931471805599455],
  [2.0, 0.1, 0.531811608389612],
  [2.0, 0.9, 3.889720169867429],
  [5.5, 0.1, 2.788892394899926],
  [5.5, 0.9, 8.637504258750036],
  [40.0, 0.1, 32.13892223408757],
  [40.0, 0.9, 48.28910180763351],
  [0.2, 0.5, 0.02074633919282486],
  [300.0, 0.1, 278.0279971525585],
  [1.5, 0.001, 0.012148792907846366],
];
const LOG_GAMMA: [x: number, value: number][] = [
  [0.5, 0.5723649429247],
  [1, 0],
  [2.5, 0.2846828704729192],
  [10, 12.801827480081469],
  [100.5, 361.43554046777757],
  [1000, 5905.220423209181],
];
const relative = (got: number, want: number) => Math.abs(got - want) / Math.max(Math.abs(want), 1e-300);

describe('the regularised incomplete gamma function', () => {
  test.each(P_AND_Q)('P(%p, %p) and Q agree with scipy to 1e-12 (relative)', (a, x, p, q) => {
    expect(relative(gammaP(a, x), p)).toBeLessThan(1e-12);
    expect(relative(gammaQ(a, x), q)).toBeLessThan(1e-12);
  });

  test('for whole a, P(a, x) is the Poisson tail P(Poisson(x) ≥ a)', () => {
    const poissonAtLeast = (k: number, lambda: number) => {
      let term = Math.exp(-lambda);
      let below = 0;
      for (let i = 0; i < k; i++) {
        below += term;
        term *= lambda / (i + 1);
      }
      return 1 - below;
    };
    for (const [k, lambda] of [
      [1, 0.3],
      [4, 3.1],
      [12, 9.5],
      [40, 44],
    ])
      expect(Math.abs(gammaP(k!, lambda!) - poissonAtLeast(k!, lambda!))).toBeLessThan(1e-13);
  });

  test('the edges: P(a, 0) = 0, P(a, ∞) = 1, and a non-positive a is refused', () => {
    expect(gammaP(3, 0)).toBe(0);
    expect(gammaP(3, Number.POSITIVE_INFINITY)).toBe(1);
    expect(gammaQ(3, 0)).toBe(1);
    expect(() => gammaP(0, 1)).toThrow(RangeError);
    expect(() => gammaP(1, -1)).toThrow(RangeError);
  });
});

describe('its inverse and ln Γ', () => {
  test.each(INVERSE)('the %p-shape quantile at %p agrees with scipy to 1e-10 (relative)', (a, p, x) => {
    expect(relative(inverseGammaP(a, p), x)).toBeLessThan(1e-10);
  });

  test('inverting then applying P gives p back across shapes and probabilities', () => {
    for (const a of [0.1, 0.7, 1, 2.3, 17, 250])
      for (const p of [0.001, 0.1, 0.5, 0.9, 0.999])
        expect(Math.abs(gammaP(a, inverseGammaP(a, p)) - p)).toBeLessThan(1e-12);
  });

  test.each(LOG_GAMMA)('ln Γ(%p) agrees with scipy to 1e-12 (absolute)', (x, value) => {
    expect(Math.abs(logGamma(x) - value)).toBeLessThan(1e-12);
  });
});
