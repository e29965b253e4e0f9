// The port of CLIP's reference clean-up (ftfy.fix_text without mojibake repair, html.unescape
// twice, whitespace, lowercase) on the cases people meet; clip-tokenizer-reference.test.ts
// checks the ids of ~200 queries against the reference itself.
import { describe, expect, it } from 'vitest';
import {
  MAX_FIX_PASSES,
  cleanClipText,
  fixText,
  ftfyHtmlEntities,
  pythonHtmlUnescape,
} from './clip-text-clean.js';
import { FTFY_HTML_ENTITY_COUNT, FTFY_HTML_ENTITY_SAMPLES } from './reference-text-tables.js';

describe('cleanClipText', () => {
  it.each([
    ['a phone keyboard\'s apostrophe', 'it’s a dog', "it's a dog"],
    ['a modifier-letter apostrophe', 'itʼs a dog', "it's a dog"],
    ['curly double quotes', '“car”', '"car"'],
    ['low and reversed quotes', '„car‟', '"car"'],
    ['full-width letters and an ideographic space', 'ＲＥＤ　ＣＡＲ', 'red car'],
    ['full-width punctuation', 'ｈｅｌｌｏ，ｗｏｒｌｄ！', 'hello,world!'],
    ['Latin ligatures', 'ﬁsh and ﬂowers', 'fish and flowers'],
    ['a decomposed accent (NFC)', 'cafe\u0301', 'café'],
    ['named, numeric and hex entities', 'it&rsquo;s &#8220;car&#x201D;', 'it\'s "car"'],
    ['an upper-cased entity', 'CAF&EACUTE;', 'café'],
    ['a legacy entity without its semicolon', '&copy 2020', '© 2020'],
    ['control characters, deleted', 'nu\u0000ll be\u0007ll', 'null bell'],
    ['a terminal colour escape', '\u001b[31mred\u001b[0m car', 'red car'],
    ['a C1 control read as Windows-1252', '\u0093quoted\u0094', '"quoted"'],
    ['line and paragraph separators', 'a\u2028b\u2029c\r\nd', 'a b c d'],
    ['a lone surrogate', 'x\ud800y', 'x\ufffdy'],
  ])('normalises %s', (_name, typed, cleaned) => {
    expect(cleanClipText(typed)).toBe(cleaned);
  });

  it('decodes entities as the reference does: ftfy to its fixed point, then html.unescape twice', () => {
    expect(cleanClipText('tom &amp;amp;amp; jerry')).toBe('tom & jerry');
    // With a "<" on the line ftfy leaves entities alone; the two html.unescape passes remain.
    expect(cleanClipText('<b> &amp;amp;amp;')).toBe('<b> &amp;');
  });

  it('stops after MAX_FIX_PASSES passes on deeply nested escaping, so crafted input costs linear time', () => {
    const nested = `&${'amp;'.repeat(200_000)}`;
    // Exactly MAX_FIX_PASSES levels are undone: the pass count, not the nesting, bounds the work.
    expect(fixText(nested)).toBe(`&${'amp;'.repeat(200_000 - MAX_FIX_PASSES)}`);
  });

  it('cleans a million characters of typographic text', () => {
    const text = 'It’s a “ﬁne” ＤＡＹ &amp; a\u0000 good one. '.repeat(25_000);
    const cleaned = cleanClipText(text);
    expect(cleaned.startsWith('it\'s a "fine" day & a good one. it\'s')).toBe(true);
  });
});

describe('pythonHtmlUnescape', () => {
  it.each([
    ['&amp;', '&'],
    ['&amp', '&'],
    ['&ampx', '&x'],
    ['&notit;', '¬it;'],
    ['&notin;', '∉'],
    ['&#0;', '\ufffd'],
    ['&#128;', '€'],
    ['&#xD800;', '\ufffd'],
    ['&#1114112;', '\ufffd'],
    ['&#1;', ''],
    ['&#x1F431;', '🐱'],
    ['&unknown;', '&unknown;'],
    ['& alone', '& alone'],
  ])('decodes %s as Python does', (escaped, text) => {
    expect(pythonHtmlUnescape(escaped)).toBe(text);
  });
});

describe('ftfy tables', () => {
  it('derives ftfy\'s HTML_ENTITIES with as many entries as ftfy has', () => {
    expect(ftfyHtmlEntities().size).toBe(FTFY_HTML_ENTITY_COUNT);
    for (const [entity, text] of Object.entries(FTFY_HTML_ENTITY_SAMPLES)) {
      expect(ftfyHtmlEntities().get(entity)).toBe(text);
    }
  });
});
