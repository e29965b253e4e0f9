// The query language: filters, dates, negative terms and the limits, exactly as parsed.
import { describe, expect, it } from 'vitest';
import { InvalidQueryError, QuerySyntaxError } from '../errors.js';
import { MAX_NEGATIVE_TERMS, MAX_QUERY_TEXT_CHARS, parseQuery } from './query-syntax.js';

describe('parseQuery', () => {
  it('separates the description from channel, user, date filters and negative terms', () => {
    const parsed = parseQuery('red car in:#design from:@ana after:2026-01-10 before:2026-02-01 -truck parked');
    expect(parsed).toEqual({
      text: 'red car parked',
      channelRefs: ['#design'],
      userRefs: ['@ana'],
      after: new Date('2026-01-11T00:00:00.000Z'),
      before: new Date('2026-02-01T00:00:00.000Z'),
      negativeTerms: ['truck'],
      truncated: false,
    });
  });

  it('keeps a platform escape with its label as one filter value', () => {
    const parsed = parseQuery('whiteboard IN:<#C0123|design team> From:<@U42|ana>');
    expect(parsed.text).toBe('whiteboard');
    expect(parsed.channelRefs).toEqual(['<#C0123|design team>']);
    expect(parsed.userRefs).toEqual(['<@U42|ana>']);
  });

  it('reads on: as the whole UTC day', () => {
    const parsed = parseQuery('cake on:2026-03-05');
    expect(parsed.after).toEqual(new Date('2026-03-05T00:00:00.000Z'));
    expect(parsed.before).toEqual(new Date('2026-03-06T00:00:00.000Z'));
  });

  it('keeps the narrowest range when a date filter is repeated', () => {
    const parsed = parseQuery('cake after:2026-01-01 after:2026-01-05 before:2026-03-01 before:2026-02-01');
    expect(parsed.after).toEqual(new Date('2026-01-06T00:00:00.000Z'));
    expect(parsed.before).toEqual(new Date('2026-02-01T00:00:00.000Z'));
  });

  it('takes a quoted phrase after a dash as one negative term', () => {
    expect(parseQuery('vehicle -"red car" -bus').negativeTerms).toEqual(['red car', 'bus']);
  });

  it('leaves words that merely contain a colon or a dash in the description', () => {
    const parsed = parseQuery('ratio 16:9 well-lit - -- photo');
    expect(parsed.text).toBe('ratio 16:9 well-lit - -- photo');
    expect(parsed.negativeTerms).toEqual([]);
  });

  it('refuses a date that does not exist, naming the filter and the expected form', () => {
    expect(() => parseQuery('cake before:2026-02-30')).toThrow(
      new QuerySyntaxError('before:2026-02-30 is not a date. Write dates as YYYY-MM-DD, for example before:2026-01-31.', { start: 5, end: 22 }),
    );
    expect(() => parseQuery('cake after:yesterday')).toThrow(/after:yesterday is not a date/);
  });

  it('refuses a range in which no day fits', () => {
    expect(() => parseQuery('cake after:2026-02-01 before:2026-02-02')).toThrow(/No day matches those dates/);
  });

  it('refuses a filter with no value', () => {
    expect(() => parseQuery('cake in:')).toThrow(new QuerySyntaxError('in: needs a value, for example in:#design.', { start: 5, end: 8 }));
  });

  it('refuses filters without a description, and an empty query, with an example of what works', () => {
    expect(() => parseQuery('in:#design after:2026-01-01')).toThrow(/Describe the image as well as filtering it/);
    expect(() => parseQuery('   ')).toThrow(/Describe the image you are looking for/);
    expect(() => parseQuery('-dog')).toThrow(/Describe the image as well as filtering it/);
  });

  it('refuses more negative terms than it will embed', () => {
    const terms = Array.from({ length: MAX_NEGATIVE_TERMS + 1 }, (_, i) => `-w${i}`).join(' ');
    expect(() => parseQuery(`cat ${terms}`)).toThrow(`Use at most ${MAX_NEGATIVE_TERMS} -terms in one search.`);
  });

  it('shortens a very long description instead of failing, and says so', () => {
    const parsed = parseQuery(`${'a'.repeat(3000)} in:#design`);
    expect(parsed.truncated).toBe(true);
    expect(parsed.text).toBe('a'.repeat(MAX_QUERY_TEXT_CHARS));
    expect(parsed.channelRefs).toEqual(['#design']);
  });

  it('never cuts an emoji in half when shortening', () => {
    const parsed = parseQuery('😀'.repeat(MAX_QUERY_TEXT_CHARS + 10));
    expect(Array.from(parsed.text)).toHaveLength(MAX_QUERY_TEXT_CHARS);
    expect(parsed.text).toBe('😀'.repeat(MAX_QUERY_TEXT_CHARS));
  });

  it('points at the part of the query at fault, so the box can show it', () => {
    const at = (query: string): string => {
      try {
        parseQuery(query);
      } catch (error) {
        if (!(error instanceof QuerySyntaxError)) throw error;
        return query.slice(error.span.start, error.span.end);
      }
      throw new Error(`"${query}" parsed`);
    };
    expect(at('red car after:2026-02-30 -truck')).toBe('after:2026-02-30');
    expect(at('red car before: blue')).toBe('before:');
    expect(at('cat after:2026-03-01 before:2026-02-01')).toBe('after:2026-03-01 before:2026-02-01');
    expect(at('cat -a -b -c -d -e -f -g')).toBe('-f -g');
    expect(at(`cat ${Array.from({ length: 11 }, (_, i) => `from:@u${i}`).join(' ')}`)).toBe('from:@u10');
    // A query with no description has no single part at fault.
    expect(() => parseQuery('after:2026-01-01')).toThrow(InvalidQueryError);
    expect(() => parseQuery('after:2026-01-01')).not.toThrow(QuerySyntaxError);
  });
});
