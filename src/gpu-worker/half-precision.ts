// IEEE 754 binary16 ("float16", "half") <-> float32, bit-exact, for the graphs whose inputs or
// outputs are float16 (the fp16 exports). ONNX Runtime for Node takes and gives 'float16' tensors
// as the raw 16-bit patterns in a Uint16Array (Node 20 has no Float16Array; where one exists, the
// runtime hands its data over as one, and the same bits are read through a Uint16Array view).
//
// float32 -> float16 rounds to nearest, ties to even, as a GPU's or numpy's conversion does:
// values past the largest half (65504) by half a step or more become infinity, values below the
// smallest subnormal (2^-24) by more than half of it become a signed zero, NaN stays NaN.
// float16 -> float32 is exact: every half value is a float32 value.

/** Sign bit, exponent field and mantissa field of a half. */
const HALF_SIGN = 0x8000;
const HALF_INFINITY = 0x7c00;
/** The quiet bit of a half NaN: a NaN is never turned into an infinity by losing its payload. */
const HALF_QUIET_NAN = 0x0200;
/** float32's exponent bias minus float16's (127 - 15). */
const EXPONENT_REBIAS = 112;

/** float32's bits, one value at a time, without allocating. */
const scratchFloat = new Float32Array(1);
const scratchBits = new Uint32Array(scratchFloat.buffer);

/** The float16 bit pattern nearest to the float32 with bits `bits` (ties to even). */
function halfBitsOfFloatBits(bits: number): number {
  const sign = (bits >>> 16) & HALF_SIGN;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) {
    return mantissa === 0 ? sign | HALF_INFINITY : sign | HALF_INFINITY | HALF_QUIET_NAN | (mantissa >>> 13);
  }
  const halfExponent = exponent - EXPONENT_REBIAS;
  if (halfExponent >= 0x1f) return sign | HALF_INFINITY;
  if (halfExponent <= 0) {
    // A half subnormal (or zero): the 24-bit significand, implicit bit included, shifted right by
    // 14 - halfExponent. Below 2^-25 (halfExponent < -10) even rounding up cannot reach 2^-24.
    if (halfExponent < -10) return sign;
    const significand = mantissa | 0x800000;
    const shift = 14 - halfExponent;
    const kept = significand >>> shift;
    const rest = significand & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    const rounded = rest > halfway || (rest === halfway && (kept & 1) === 1) ? kept + 1 : kept;
    // A carry out of the subnormal range gives exactly the smallest normal, 0x0400: correct.
    return sign | rounded;
  }
  const truncated = (halfExponent << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // A carry into the exponent is correct too, up to 0x7c00 (infinity) from 65520 and above.
  const rounded = rest > 0x1000 || (rest === 0x1000 && (truncated & 1) === 1) ? truncated + 1 : truncated;
  return sign | rounded;
}

/** The float16 bit pattern nearest to `value` (rounded to float32 first, as a Float32Array would). */
export function toHalfBits(value: number): number {
  scratchFloat[0] = value;
  return halfBitsOfFloatBits(scratchBits[0] as number);
}

/** The value of a float16 bit pattern (exact). */
export function fromHalfBits(bits: number): number {
  const sign = (bits & HALF_SIGN) === 0 ? 1 : -1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : Number.NaN;
  return sign * (1024 + mantissa) * 2 ** (exponent - 25);
}

/** float32 values as float16 bit patterns, for a 'float16' tensor. */
export function float32ToFloat16(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const halves = new Uint16Array(values.length);
  for (let i = 0; i < halves.length; i++) halves[i] = halfBitsOfFloatBits(bits[i] as number);
  return halves;
}

/** float16 values, as the bit patterns of a 'float16' tensor's data, widened to float32. */
export function float16ToFloat32(halves: Uint16Array): Float32Array {
  const values = new Float32Array(halves.length);
  for (let i = 0; i < values.length; i++) values[i] = fromHalfBits(halves[i] as number);
  return values;
}

/**
 * The 16-bit patterns behind a 'float16' tensor's data: a Uint16Array as ONNX Runtime gives it on
 * Node 20, or a Float16Array where the runtime has one (its bytes are the same patterns).
 */
export function halfBitsOf(data: ArrayBufferView): Uint16Array {
  return data instanceof Uint16Array ? data : new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2);
}
