// displayName: names that are not UTF-8 are shown with the bad bytes escaped, and control
// characters never reach the terminal raw.
import { describe, expect, it } from 'vitest';
import { displayName, isUtf8Name } from './file-names.js';

describe('displayName', () => {
  it('shows a UTF-8 name as it is', () => {
    expect(displayName(Buffer.from('photos/café été.jpg'))).toBe('photos/café été.jpg');
    expect(displayName('a\\b.jpg')).toBe('a\\b.jpg');
  });

  it('escapes the bytes of a Latin-1 name and keeps the rest', () => {
    const latin1 = Buffer.from([...Buffer.from('caf'), 0xe9, ...Buffer.from('.jpg')]);
    expect(isUtf8Name(latin1)).toBe(false);
    expect(displayName(latin1)).toBe('caf\\xe9.jpg');
    // Valid sequences beside a bad byte stay readable; backslashes are doubled once escaping starts.
    expect(displayName(Buffer.concat([Buffer.from('é\\'), Buffer.from([0xff])]))).toBe('é\\\\\\xff');
  });

  it('escapes control characters, so a name cannot fake a summary line or move the cursor', () => {
    expect(displayName('evil\n  skipped x.jpg: y')).toBe('evil\\x0a  skipped x.jpg: y');
    expect(displayName('\u001b[2Jx.png')).toBe('\\x1b[2Jx.png');
    expect(displayName('c1\u009b.png')).toBe('c1\\xc2\\x9b.png');
  });
});
