// Parsers of the command line's option values. Each throws commander's InvalidArgumentError with
// the fix in its message, so a bad value exits with the usage code and says what to give instead.
import { InvalidArgumentError } from 'commander';
import { MAX_QUERY_WINDOW } from '../core/store/point-validation.js';

/** A comma-separated list of names, e.g. `--models a,b`. */
export function parseList(value: string): string[] {
  const items = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) throw new InvalidArgumentError('give one or more names separated by commas.');
  return items;
}

/** Comma-separated result counts, e.g. `--k 1,5,10`. */
export function parseCounts(value: string): number[] {
  return parseList(value).map(parseCount);
}

/** Prompt template sets: sets separated by ";", templates in a set by "|", each with {}. */
export function parseTemplateSets(value: string): string[][] {
  const sets = value.split(';').map((set) => set.split('|').map((t) => t.trim()).filter((t) => t !== ''));
  if (sets.length === 0 || sets.some((set) => set.length === 0 || set.some((t) => !t.includes('{}')))) {
    throw new InvalidArgumentError('give template sets separated by ";", templates in a set by "|", each with {} (e.g. "{};a photo of {}").');
  }
  return sets;
}

/** A share strictly between 0 and 1, e.g. `--split 0.2`. */
export function parseShare(value: string): number {
  const n = Number(value);
  if (!(n > 0 && n < 1)) throw new InvalidArgumentError('give a share between 0 and 1, e.g. 0.2.');
  return n;
}

/** A random seed: a whole number, 0 or more. */
export function parseSeed(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('give a whole number, 0 or more.');
  return n;
}

/** A number of results, 1 to 100. */
export function parseCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new InvalidArgumentError('give a whole number from 1 to 100.');
  return n;
}

/** Results to skip: at most the window a search ranks (MAX_QUERY_WINDOW), less one. */
export function parseOffset(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('give a whole number, 0 or more.');
  if (n >= MAX_QUERY_WINDOW) {
    throw new InvalidArgumentError(
      `a search ranks its best ${MAX_QUERY_WINDOW} results at most, so give an offset from 0 to ${MAX_QUERY_WINDOW - 1}.`,
    );
  }
  return n;
}
