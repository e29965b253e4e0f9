// The download's Content-Disposition: an ASCII fallback and the exact name in RFC 5987 form,
// whose attr-char excludes ' ( ) * as well as what encodeURIComponent already escapes.
import { describe, expect, it } from 'vitest';
import { attachmentDisposition } from './originals.js';

describe('attachmentDisposition', () => {
  it('percent-encodes an apostrophe, brackets and a star in filename*', () => {
    expect(attachmentDisposition("it's (1)*.jpg")).toBe(`attachment; filename="it's (1)*.jpg"; filename*=UTF-8''it%27s%20%281%29%2A.jpg`);
  });

  it('replaces quotes, backslashes and non-ASCII in the fallback and keeps them exact in filename*', () => {
    expect(attachmentDisposition('café "a\\b".jpg')).toBe(`attachment; filename="caf_ _a_b_.jpg"; filename*=UTF-8''caf%C3%A9%20%22a%5Cb%22.jpg`);
  });

  it('leaves every character of filename* inside RFC 5987 attr-char or a %XX escape', () => {
    const value = attachmentDisposition("a'b(c)d*e!f~g.jpg").split("UTF-8''")[1]!;
    expect(value).toMatch(/^(?:[A-Za-z0-9!#$&+\-.^_`|~]|%[0-9A-F]{2})+$/);
  });
});
