// The user reads back the filters of a search in one line, in the platform's own mentions.
import { describe, expect, it } from 'vitest';
import { describeFilters, queryNotes, type FilterWording } from './filter-description.js';

const wording: FilterWording = {
  conversation: (id) => `[#${id}]`,
  user: (id) => `[@${id}]`,
  userText: (text, maxChars) => text.slice(0, maxChars).toUpperCase(),
};

describe('describeFilters', () => {
  it('says nothing when nothing narrows the search', () => {
    expect(describeFilters({}, [], wording)).toEqual([]);
  });

  it('lists every filter in order, with the exclusive end shown as the last day included', () => {
    const filters = {
      channels: ['C1', 'C2'],
      uploaders: ['U1'],
      after: new Date('2026-01-01T00:00:00.000Z'),
      before: new Date('2026-02-01T00:00:00.000Z'),
    };
    expect(describeFilters(filters, ['cats', 'dogs'], wording)).toEqual([
      'Filters: in [#C1], [#C2] · from [@U1] · from 2026-01-01 · until 2026-01-31 · not like “CATS”, “DOGS”',
    ]);
  });

  it('cuts a long negative term through the platform wording', () => {
    expect(describeFilters({}, ['x'.repeat(80)], wording)).toEqual([`Filters: not like “${'X'.repeat(50)}”`]);
  });
});

describe('queryNotes', () => {
  it('tells a text search\'s filters and, on its first page, that the description was cut', () => {
    const query = { kind: 'text', filters: { channels: ['C1'] }, negativeTerms: ['dog'] };
    expect(queryNotes(query, wording)).toEqual(['Filters: in [#C1] · not like “DOG”']);
    expect(queryNotes(query, wording, true)).toEqual(['Filters: in [#C1] · not like “DOG”', 'Your description was shortened to its first 500 characters.']);
  });

  it('has nothing to tell of an image search', () => {
    expect(queryNotes({ kind: 'image', filters: {}, negativeTerms: [] }, wording)).toEqual([]);
  });
});
