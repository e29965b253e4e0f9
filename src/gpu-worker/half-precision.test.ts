// float32 <-> float16 at the graph boundary: known bit patterns (IEEE 754 binary16), rounding to
// nearest with ties to even, subnormals, infinities and NaN, every half value round-tripped, and
// random float32 values against a slow reference that picks the nearest half by search.
import { describe, expect, it } from 'vitest';
import { float16ToFloat32, float32ToFloat16, fromHalfBits, halfBitsOf, toHalfBits } from './half-precision.js';

const hex = (bits: number) => `0x${bits.toString(16).padStart(4, '0')}`;

describe('float32 to float16 bits', () => {
  it.each([
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3c00],
    [-2, 0xc000],
    [0.5, 0x3800],
    [1 / 3, 0x3555],
    [65504, 0x7bff],
    [2 ** -14, 0x0400],
    [2 ** -24, 0x0001],
    [1023 * 2 ** -24, 0x03ff],
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
  ])('%s is %s', (value, bits) => {
    expect(hex(toHalfBits(value))).toBe(hex(bits));
  });

  it('rounds a tie between two halves to the even one', () => {
    expect(hex(toHalfBits(1 + 2 ** -11))).toBe('0x3c00'); // between 0x3c00 and 0x3c01: even 0x3c00
    expect(hex(toHalfBits(1 + 3 * 2 ** -11))).toBe('0x3c02'); // between 0x3c01 and 0x3c02: even 0x3c02
    expect(hex(toHalfBits(2 ** -25))).toBe('0x0000'); // half the smallest subnormal: even zero
    expect(hex(toHalfBits(3 * 2 ** -25))).toBe('0x0002'); // between subnormals 1 and 2: even 2
    expect(hex(toHalfBits(-(1 + 2 ** -11)))).toBe('0xbc00');
  });

  it('rounds past a tie to the nearer half', () => {
    expect(hex(toHalfBits(1 + 2 ** -11 + 2 ** -20))).toBe('0x3c01');
    expect(hex(toHalfBits(2 ** -25 * 1.0001))).toBe('0x0001');
    expect(hex(toHalfBits(2 ** -26))).toBe('0x0000');
  });

  it('carries out of the subnormals into the smallest normal', () => {
    expect(hex(toHalfBits(1023.5 * 2 ** -24))).toBe('0x0400'); // tie, 0x03ff is odd
  });

  it('overflows to infinity from half a step above the largest half, not before', () => {
    expect(hex(toHalfBits(65519))).toBe('0x7bff');
    expect(hex(toHalfBits(65520))).toBe('0x7c00'); // the tie between 65504 and 65536 goes to even
    expect(hex(toHalfBits(1e6))).toBe('0x7c00');
    expect(hex(toHalfBits(-1e6))).toBe('0xfc00');
  });

  it('keeps NaN a NaN, sign included, and never an infinity', () => {
    const nan = toHalfBits(Number.NaN);
    expect(nan & 0x7c00).toBe(0x7c00);
    expect(nan & 0x03ff).not.toBe(0);
    const payloadInLowBits = new Float32Array(new Uint32Array([0xff800001]).buffer)[0] as number;
    const bits = float32ToFloat16(new Float32Array([payloadInLowBits]))[0] as number;
    expect(bits & 0x8000).toBe(0x8000);
    expect(bits & 0x03ff).not.toBe(0);
  });

  it('treats float32 subnormals as zero of the same sign', () => {
    expect(hex(toHalfBits(1e-40))).toBe('0x0000');
    expect(hex(toHalfBits(-1e-40))).toBe('0x8000');
  });
});

describe('float16 bits to float32', () => {
  it.each([
    [0x0000, 0],
    [0x3c00, 1],
    [0xc000, -2],
    [0x7bff, 65504],
    [0x0001, 2 ** -24],
    [0x03ff, 1023 * 2 ** -24],
    [0x0400, 2 ** -14],
    [0x3555, 0.333251953125],
    [0x7c00, Infinity],
    [0xfc00, -Infinity],
  ])('%s is %s', (bits, value) => {
    expect(fromHalfBits(bits)).toBe(value);
  });

  it('keeps the sign of zero and reads NaNs as NaN', () => {
    expect(Object.is(fromHalfBits(0x8000), -0)).toBe(true);
    expect(fromHalfBits(0x7e00)).toBeNaN();
    expect(fromHalfBits(0xfc01)).toBeNaN();
  });

  it('round-trips every one of the 65,536 half patterns (NaNs as NaNs)', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const back = float32ToFloat16(float16ToFloat32(all));
    for (let bits = 0; bits < 65536; bits++) {
      const isNaN = (bits & 0x7c00) === 0x7c00 && (bits & 0x03ff) !== 0;
      if (isNaN) expect(Number.isNaN(fromHalfBits(back[bits] as number)), hex(bits)).toBe(true);
      else if (back[bits] !== bits) expect(hex(back[bits] as number), hex(bits)).toBe(hex(bits));
    }
  });
});

/** Nearest half by binary search over every finite non-negative half, ties to the even pattern. */
function referenceHalf(value: number): number {
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const magnitude = Math.abs(value);
  if (magnitude >= 65520) return sign | 0x7c00;
  let low = 0;
  let high = 0x7bff;
  while (high - low > 1) {
    const middle = (low + high) >>> 1;
    if (fromHalfBits(middle) <= magnitude) low = middle;
    else high = middle;
  }
  const below = magnitude - fromHalfBits(low);
  const above = fromHalfBits(high) - magnitude;
  if (below < above) return sign | low;
  if (above < below) return sign | high;
  return sign | (low % 2 === 0 ? low : high);
}

describe('against a reference search', () => {
  it('agrees on 200,000 random float32 bit patterns across the half range', () => {
    let state = 2026;
    const next = () => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return state;
    };
    const bits = new Uint32Array(200_000);
    for (let i = 0; i < bits.length; i++) {
      // Exponents from 2^-27 to 2^17: subnormal halves, normal halves and overflow, both signs.
      const exponent = 100 + (next() % 45);
      bits[i] = ((next() & 1) << 31) | (exponent << 23) | (next() & 0x7fffff);
    }
    const values = new Float32Array(bits.buffer);
    const halves = float32ToFloat16(values);
    for (let i = 0; i < values.length; i++) {
      const expected = referenceHalf(values[i] as number);
      if (halves[i] !== expected) expect(hex(halves[i] as number), `${values[i]}`).toBe(hex(expected));
    }
  });
});

describe('float32ToFloat16 on arrays (the fast path for normal halves)', () => {
  it('rounds ties to even and overflows exactly as the one-value conversion does', () => {
    const values = new Float32Array([1 + 2 ** -11, 1 + 3 * 2 ** -11, -(1 + 2 ** -11), 65519, 65520, 2 ** -14, 1023.5 * 2 ** -24, 2 ** -25]);
    expect([...float32ToFloat16(values)].map(hex)).toEqual(['0x3c00', '0x3c02', '0xbc00', '0x7bff', '0x7c00', '0x0400', '0x0400', '0x0000']);
    expect([...float32ToFloat16(values)]).toEqual([...values].map((value) => toHalfBits(value)));
  });
});

describe('halfBitsOf', () => {
  it('returns a Uint16Array as it is, and reads any other 16-bit view as the same bytes', () => {
    const halves = new Uint16Array([0x3c00, 0xc000]);
    expect(halfBitsOf(halves)).toBe(halves);
    const asInt16 = new Int16Array(halves.buffer);
    expect([...halfBitsOf(asInt16)]).toEqual([0x3c00, 0xc000]);
  });
});
