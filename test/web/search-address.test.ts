// The page's address parser (web/src/search-address.ts): a typed or edited address never becomes
// a request the server refuses. Offsets become the start of a page the server can answer, a
// template it would refuse is dropped, and what is left is written back as the address.
import { describe, expect, it } from 'vitest';
import { MAX_QUERY_WINDOW } from '../../src/core/store/point-validation.js';
import { MAX_SEARCH_TEMPLATE_CHARS } from '../../src/core/text/prompt-templates.js';
import { MAX_OFFSET, MAX_TEMPLATE_CHARS, PAGE_SIZE, stateFromUrl, urlOf } from '../../web/src/search-address.js';

describe('the search address', () => {
  it('clamps the offset to the last page the server answers, and rounds it down to a page', () => {
    // The page keeps its own copies of the server's limits (it is built apart): they must agree.
    expect(MAX_OFFSET).toBe(MAX_QUERY_WINDOW - PAGE_SIZE);
    expect(MAX_TEMPLATE_CHARS).toBe(MAX_SEARCH_TEMPLATE_CHARS);
    expect(MAX_OFFSET).toBe(9980);
    expect(stateFromUrl('?q=a&offset=99999')).toEqual({ kind: 'text', q: 'a', offset: 9980, tuning: {} });
    expect(stateFromUrl('?q=a&offset=45')).toMatchObject({ offset: 40 });
    expect(stateFromUrl(`?q=a&offset=${PAGE_SIZE * 3}`)).toMatchObject({ offset: 60 });
    for (const bad of ['-20', 'abc', '', '1e400', 'NaN', '19']) expect(stateFromUrl(`?q=a&offset=${bad}`), bad).toMatchObject({ offset: 0 });
  });

  it('keeps a template with {} exactly once and at most 200 characters, and drops any other', () => {
    expect(stateFromUrl(`?q=a&tpl=${encodeURIComponent(' a sketch of {} ')}`)).toMatchObject({ tuning: { template: 'a sketch of {}' } });
    expect(stateFromUrl(`?q=a&tpl=${encodeURIComponent(`${'x'.repeat(197)} {}`)}`)).toMatchObject({ tuning: { template: `${'x'.repeat(197)} {}` } });
    for (const bad of ['a sketch', '{}{}', '{}'.repeat(100), `${'x'.repeat(198)} {}`, `${'x'.repeat(800)} {}`]) {
      expect(stateFromUrl(`?q=a&tpl=${encodeURIComponent(bad)}`), bad.slice(0, 20)).toEqual({ kind: 'text', q: 'a', offset: 0, tuning: {} });
    }
  });

  it('writes back only what it kept, and / when nothing is left', () => {
    expect(urlOf(stateFromUrl(`?q=red%20car&offset=99999&tpl=${encodeURIComponent('{}{}')}&min=0.5`))).toBe('/?q=red+car&offset=9980&min=0.5');
    expect(urlOf(stateFromUrl('?like=not-an-id&offset=40&tpl=x'))).toBe('/');
    expect(urlOf(stateFromUrl('?min=2'))).toBe('/');
  });
});
