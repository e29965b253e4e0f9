// File names as the CLI shows and stores them. A Linux name is bytes, not text: one that is not
// valid UTF-8 (`caf\xe9.jpg`, written by a Latin-1 system) is read through its Buffer path and
// shown with the bad bytes escaped, and control characters never reach the terminal raw.

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Longest UTF-8 sequence, in bytes. */
const MAX_SEQUENCE_BYTES = 4;

/**
 * A name (or path) as text a person can read: decoded as UTF-8; each byte that is not part of a
 * valid UTF-8 sequence becomes `\xNN`, and control characters (newline, escape, ...) become
 * `\xNN` too, so a hostile name cannot move the cursor or fake a line of the summary. A name
 * with anything escaped also has its own backslashes doubled, so the escaped form is unambiguous.
 */
export function displayName(bytes: Uint8Array | string): string {
  const buffer = typeof bytes === 'string' ? Buffer.from(bytes) : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const text = decodeStrict(buffer);
  if (text !== undefined && !hasControl(text)) return text;
  let shown = '';
  let i = 0;
  while (i < buffer.length) {
    const length = sequenceLength(buffer, i);
    if (length === 0) {
      shown += escapeByte(buffer[i] as number);
      i++;
      continue;
    }
    const char = (decodeStrict(buffer.subarray(i, i + length)) as string).replace(/\\/g, '\\\\');
    shown += hasControl(char) ? [...buffer.subarray(i, i + length)].map(escapeByte).join('') : char;
    i += length;
  }
  return shown;
}

/** True when the bytes are valid UTF-8, so a string path names the same file as the Buffer. */
export function isUtf8Name(bytes: Uint8Array): boolean {
  return decodeStrict(bytes) !== undefined;
}

/** The UTF-8 text of the bytes, or undefined when they are not valid UTF-8. */
function decodeStrict(bytes: Uint8Array): string | undefined {
  try {
    return STRICT_UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Length of the valid UTF-8 sequence starting at `at`, or 0 when the byte there starts none. */
function sequenceLength(buffer: Buffer, at: number): number {
  for (let length = 1; length <= MAX_SEQUENCE_BYTES && at + length <= buffer.length; length++) {
    if (decodeStrict(buffer.subarray(at, at + length)) !== undefined) return length;
  }
  return 0;
}

function hasControl(text: string): boolean {
  // C0 controls, DEL and the C1 controls (which some terminals obey as escapes).
  return /[\u0000-\u001f\u007f-\u009f]/.test(text);
}

function escapeByte(byte: number): string {
  return `\\x${byte.toString(16).padStart(2, '0')}`;
}
