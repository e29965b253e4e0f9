// Prompt templates: validation of the configured list and expansion of a query.
import { describe, expect, it } from 'vitest';
import { ConfigError, InvalidQueryError } from '../errors.js';
import { DEFAULT_PROMPT_TEMPLATES, describedInTemplate, MAX_PROMPT_TEMPLATES, PromptTemplates, searchTemplate } from './prompt-templates.js';
import { normalizeClipQuery, normalizeSiglipQuery } from './query-text.js';

function configError(templates: string[]): ConfigError {
  try {
    new PromptTemplates(templates, normalizeClipQuery);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('config_invalid');
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('PromptTemplates', () => {
  it('uses "a photo of {}" when no templates are given', () => {
    const templates = new PromptTemplates(DEFAULT_PROMPT_TEMPLATES, normalizeClipQuery);
    expect(templates.templates).toEqual(['a photo of {}']);
    expect(templates.expand('red car')).toEqual(['a photo of red car']);
  });

  it('expands a query into one prompt per template, in order', () => {
    const templates = new PromptTemplates(['a photo of {}', ' a drawing of {} ', '{}'], normalizeClipQuery);
    expect(templates.expand('a red car')).toEqual([
      'a photo of a red car',
      'a drawing of a red car',
      'a red car',
    ]);
  });

  it('normalises the query before putting it in the template', () => {
    const templates = new PromptTemplates(['a photo of {}'], normalizeClipQuery);
    expect(templates.expand('  red \n\t car  ')).toEqual(['a photo of red car']);
  });

  it('fills every {} and keeps "$" patterns in the query literal', () => {
    const templates = new PromptTemplates(['{} next to {}'], normalizeClipQuery);
    expect(templates.expand("$& $1 $' off")).toEqual(["$& $1 $' off next to $& $1 $' off"]);
  });

  it('refuses an empty query with InvalidQueryError', () => {
    const templates = new PromptTemplates(['a photo of {}'], normalizeClipQuery);
    expect(() => templates.expand(' \n ')).toThrow(InvalidQueryError);
  });

  it('refuses a template without {} and names it', () => {
    const error = configError(['a photo of {}', 'a picture of']);
    expect(error.message).toBe(
      'The prompt template "a picture of" has no {} to put the query in. Write it like "a photo of {}".',
    );
  });

  it('refuses an empty list of templates', () => {
    expect(configError([]).message).toContain('at least one template containing {}');
  });

  it(`refuses more than ${MAX_PROMPT_TEMPLATES} templates`, () => {
    const many = Array.from({ length: MAX_PROMPT_TEMPLATES + 1 }, (_, i) => `photo ${i} of {}`);
    expect(configError(many).message).toContain(`at most ${MAX_PROMPT_TEMPLATES}`);
    expect(new PromptTemplates(many.slice(1), normalizeClipQuery).templates).toHaveLength(MAX_PROMPT_TEMPLATES);
  });

  it("normalises with the model family's clean-up it was given", () => {
    const query = 'red\u001ccar';
    expect(new PromptTemplates(['{}'], normalizeClipQuery).expand(query)).toEqual(['redcar']);
    expect(new PromptTemplates(['{}'], normalizeSiglipQuery).expand(query)).toEqual(['red car']);
  });

  it('keeps its own copy of the templates', () => {
    const list = ['a photo of {}'];
    const templates = new PromptTemplates(list, normalizeClipQuery);
    list.push('oops');
    expect(templates.templates).toEqual(['a photo of {}']);
    expect(Object.isFrozen(templates.templates)).toBe(true);
  });
});

describe('a search\'s own prompt template', () => {
  it('holds {} exactly once: none, or two and more, is refused with how to write it', () => {
    expect(searchTemplate(' a drawing of {} ')).toEqual(['a drawing of {}']);
    expect(searchTemplate('{}')).toEqual(['{}']);
    expect(() => searchTemplate('a drawing')).toThrow(InvalidQueryError);
    for (const typed of ['{} and {}', '{}'.repeat(100)]) {
      expect(() => searchTemplate(typed), typed).toThrow(/more than once; put \{\} exactly once/);
    }
  });

  it('leaves the description the room the template does not take, and says when it cut it', () => {
    expect(describedInTemplate('{}', 'red car', 7)).toEqual({ text: 'red car', cut: false });
    expect(describedInTemplate('a {}', 'red car', 9)).toEqual({ text: 'red car', cut: false });
    expect(describedInTemplate('a {}', 'red car', 8)).toEqual({ text: 'red ca', cut: true });
    expect(describedInTemplate('a pic of {}', 'red car', 12)).toEqual({ text: 'red', cut: true });
    // Characters, not UTF-16 units: an emoji is one.
    expect(describedInTemplate('{}!', '🚗🚗🚗', 3)).toEqual({ text: '🚗🚗', cut: true });
  });
});
