// CLIP prompt templates: a query "red car" becomes "a photo of red car" (and one prompt per extra
// template), the wording CLIP saw in training. The embedder averages the prompts' vectors.
import { ConfigError, InvalidQueryError } from '../errors.js';
import type { QueryNormalizer } from './query-text.js';

/** Where the query goes inside a template. */
export const QUERY_PLACEHOLDER = '{}';

/**
 * Each template costs one text-tower run per search (about 41 ms for ViT-B/32 on 2 CPU cores),
 * so 16 templates keep a query under a second there; CLIP's 80 ImageNet prompts would not.
 */
export const MAX_PROMPT_TEMPLATES = 16;

/** The default, as in FINDIMAGE_PROMPT_TEMPLATES: CLIP ranks better with a caption than a bare phrase. */
export const DEFAULT_PROMPT_TEMPLATES: readonly string[] = ['a photo of {}'];

/** A validated, non-empty list of templates, each holding the "{}" placeholder. */
export class PromptTemplates {
  /** The templates, trimmed, in the order given. */
  readonly templates: readonly string[];
  /** The model family's query clean-up (ModelFamily.normalizeQuery), run before expansion. */
  readonly #normalizeQuery: QueryNormalizer;

  /**
   * `normalizeQuery` is the model family's clean-up: each family's tokenizer must receive what its
   * reference tokenizer would. Throws ConfigError for an empty list, too many templates, or one
   * without "{}".
   */
  constructor(templates: readonly string[], normalizeQuery: QueryNormalizer) {
    this.#normalizeQuery = normalizeQuery;
    const trimmed = templates.map((t) => t.trim());
    if (trimmed.length === 0) {
      throw new ConfigError(
        'No prompt template is set. Give at least one template containing {}, for example "a photo of {}".',
      );
    }
    if (trimmed.length > MAX_PROMPT_TEMPLATES) {
      throw new ConfigError(
        `${trimmed.length} prompt templates are set; at most ${MAX_PROMPT_TEMPLATES} are allowed, since each one adds a model run to every search.`,
        { details: { count: trimmed.length, max: MAX_PROMPT_TEMPLATES } },
      );
    }
    const bad = trimmed.find((t) => !t.includes(QUERY_PLACEHOLDER));
    if (bad !== undefined) {
      throw new ConfigError(
        `The prompt template "${bad}" has no {} to put the query in. Write it like "a photo of {}".`,
        { details: { template: bad } },
      );
    }
    this.templates = Object.freeze(trimmed);
  }

  /**
   * Normalises the query with the family's clean-up and returns one prompt per template, with every
   * "{}" replaced by the query. Throws InvalidQueryError for an empty query.
   */
  expand(query: string): string[] {
    const normalized = this.#normalizeQuery(query);
    // split/join rather than String.replace: a query such as "$& off" must stay literal.
    return this.templates.map((t) => t.split(QUERY_PLACEHOLDER).join(normalized));
  }
}

/**
 * Longest prompt template one search may bring. CLIP reads 77 tokens, and the query goes inside
 * the template: a longer wording would leave the query itself no room.
 */
export const MAX_SEARCH_TEMPLATE_CHARS = 200;

/**
 * The prompt template a person typed for one search, checked: it must hold "{}" exactly once (a
 * hundred of them would repeat the description a hundred times into every search's prompt) and
 * be at most MAX_SEARCH_TEMPLATE_CHARS long. "{}" alone embeds the words as typed. Throws
 * InvalidQueryError (a person's input, not a setting) saying how to fix it.
 */
export function searchTemplate(typed: string): readonly string[] {
  const template = typed.trim();
  if (!template.includes(QUERY_PLACEHOLDER)) {
    throw new InvalidQueryError(`The prompt template "${template}" has no {} to put the description in. Write it like "a photo of {}", or {} alone for the words as typed.`);
  }
  if (template.split(QUERY_PLACEHOLDER).length !== 2) {
    throw new InvalidQueryError(`The prompt template "${template}" holds {} more than once; put {} exactly once, where the description goes.`);
  }
  if (Array.from(template).length > MAX_SEARCH_TEMPLATE_CHARS) {
    throw new InvalidQueryError(`The prompt template is ${Array.from(template).length} characters long; at most ${MAX_SEARCH_TEMPLATE_CHARS} leave the model room for the description.`);
  }
  return [template];
}

/**
 * The description cut so that `template` (one "{}") with it in place holds at most `maxChars`
 * characters, the cap on what a search embeds; `cut` says whether anything was left out, so the
 * report of a shortened description counts the template's words too.
 */
export function describedInTemplate(template: string, description: string, maxChars: number): { text: string; cut: boolean } {
  const room = Math.max(0, maxChars - (Array.from(template).length - QUERY_PLACEHOLDER.length));
  const chars = Array.from(description);
  if (chars.length <= room) return { text: description, cut: false };
  return { text: chars.slice(0, room).join('').trimEnd(), cut: true };
}
