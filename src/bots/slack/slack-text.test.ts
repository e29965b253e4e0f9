// Escaping user text for mrkdwn and fitting it into Block Kit limits.
import { describe, expect, it } from 'vitest';
import { decodeSlackEntities, escapeAndTruncate, escapeMrkdwn, plainText, truncate } from './slack-text.js';

describe('escapeMrkdwn', () => {
  it('turns &, < and > into entities so no mention or link can be injected', () => {
    expect(escapeMrkdwn('<!channel> & <http://evil|click> <@U1>')).toBe('&lt;!channel&gt; &amp; &lt;http://evil|click&gt; &lt;@U1&gt;');
  });

  it('makes bold, italics, strike and code inert with lookalike characters', () => {
    expect(escapeMrkdwn('*bold* _it_ ~gone~ `code`')).toBe('∗bold∗ ˍitˍ ∼gone∼ ˋcodeˋ');
  });

  it('keeps underscores inside words, which format nothing', () => {
    expect(escapeMrkdwn('invalid_auth SLACK_BOT_TOKEN my_photo_2.png')).toBe('invalid_auth SLACK_BOT_TOKEN my_photo_2.png');
    expect(escapeMrkdwn('_start end_')).toBe('ˍstart endˍ');
  });

  it('is undone by nothing Slack does: decoding Slack entities gives back the typed text first', () => {
    expect(decodeSlackEntities('a &lt;b&gt; &amp;amp;')).toBe('a <b> &amp;');
  });
});

describe('truncation', () => {
  it('cuts at code points and ends with an ellipsis', () => {
    expect(truncate('😀😀😀', 2)).toBe('😀…');
    expect(truncate('abc', 3)).toBe('abc');
  });

  it('fits escaped text into a limit without splitting an entity', () => {
    const escaped = escapeAndTruncate('<<<<<<<<<<', 12);
    expect(escaped).toBe('&lt;&lt;…');
    expect(Array.from(escaped).length).toBeLessThanOrEqual(12);
  });

  it('swaps angle brackets in plain text fields', () => {
    expect(plainText('<!here> photo.png', 100)).toBe('‹!here› photo.png');
  });
});
