// CLIP's reference text clean-up, before byte-pair encoding, as OpenAI's tokenizer (and open_clip's
// SimpleTokenizer) does it: ftfy.fix_text (which ends with NFC), html.unescape twice, whitespace
// runs to one space, lowercase. So "it’s", "ｉｔ's" and "it&#39;s" from a phone keyboard, a
// full-width IME or an HTML form all reach the model as "it's", as they did in CLIP's training.
//
// ftfy is ported without fix_encoding (mojibake repair by re-decoding): people type queries, they
// do not paste mis-decoded bytes, and its heuristics are most of ftfy. Every other step of
// fix_text runs as ftfy runs it, in its order, to its fixed point, with ftfy's own tables
// (reference-text-tables.ts, generated from Python). test/fixtures/clip-tokenizer holds ~200
// queries with the ids the reference gives; clip-tokenizer-reference.test.ts compares.
import {
  C1_AS_WINDOWS_1252,
  CONTROL_CODEPOINTS,
  HTML5_ENTITIES,
  INVALID_CHARREFS,
  INVALID_CODEPOINTS,
  LIGATURES,
  WIDTH_MAP,
} from './reference-text-tables.js';
import { pythonWhitespaceClean } from './python-whitespace.js';

/**
 * ftfy repeats its fixes until the text stops changing. Each pass undoes one level of nested
 * escaping ("&amp;amp;" needs two), so a crafted million-character query could otherwise take
 * a pass per level; real text settles in two or three.
 */
export const MAX_FIX_PASSES = 8;

/** Python html's _charref pattern (the `u` flag makes {1,32} count code points, as Python does). */
const PYTHON_CHARREF = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/gu;
const INVALID_CODEPOINT_SET = new Set(INVALID_CODEPOINTS);

/** ftfy's HTML_ENTITY_RE: only references that end with ';'. */
const FTFY_ENTITY = /&#?[0-9A-Za-z]{1,24};/g;
/** ftfy's C1_CONTROL_RE. */
const C1_CONTROL = /[\x80-\x9f]/g;
/** ftfy's SINGLE_QUOTE_RE and DOUBLE_QUOTE_RE: curly and modifier quotes. */
const SINGLE_QUOTE = /[\u02bc\u2018-\u201b]/g;
const DOUBLE_QUOTE = /[\u201c-\u201f]/g;
/** ftfy's ANSI_RE: terminal colour and cursor escapes. */
export const ANSI_ESCAPE = /\x1b\[((?:\d|;)*)([a-zA-Z])/g;
/** ftfy's CONTROL_CHARS as a pattern; the set is ranges of single code units. */
export const FTFY_CONTROL_CHARACTERS = new RegExp(
  `[${CONTROL_CODEPOINTS.map((c) => `\\u${c.toString(16).padStart(4, '0')}`).join('')}]`,
  'g',
);
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Python's html.unescape: HTML5 named and numeric references, including the legacy ones without ';'. */
export function pythonHtmlUnescape(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(PYTHON_CHARREF, (_match, ref: string) => {
    if (ref.startsWith('#')) {
      const hex = ref[1] === 'x' || ref[1] === 'X';
      const digits = ref.slice(hex ? 2 : 1).replace(/;$/, '');
      const num = Number.parseInt(digits, hex ? 16 : 10);
      const remapped = INVALID_CHARREFS[String(num)];
      if (remapped !== undefined) return remapped;
      if ((num >= 0xd800 && num <= 0xdfff) || num > 0x10ffff) return '\ufffd';
      if (INVALID_CODEPOINT_SET.has(num)) return '';
      return String.fromCodePoint(num);
    }
    const whole = HTML5_ENTITIES[ref];
    if (whole !== undefined) return whole;
    // The longest entity name the reference starts with, as the HTML5 standard reads "&copy2020".
    const chars = Array.from(ref);
    for (let x = chars.length - 1; x > 1; x--) {
      const prefix = chars.slice(0, x).join('');
      const value = HTML5_ENTITIES[prefix];
      if (value !== undefined) return value + chars.slice(x).join('');
    }
    return `&${ref}`;
  });
}

/**
 * ftfy's HTML_ENTITIES, built by ftfy's rule: every HTML5 name ending in ';', plus the upper-cased
 * form of each lower-case name that means nothing else ("&NTILDE;" is "Ñ": some systems upper-case
 * whole strings, entities included).
 */
function buildFtfyEntities(): Map<string, string> {
  const entities = new Map<string, string>();
  for (const [name, value] of Object.entries(HTML5_ENTITIES)) {
    if (!name.endsWith(';')) continue;
    entities.set(`&${name}`, value);
    if (name === name.toLowerCase()) {
      const upper = `&${name.toUpperCase()}`;
      if (pythonHtmlUnescape(upper) === upper) entities.set(upper, value.toUpperCase());
    }
  }
  return entities;
}

let ftfyEntities: Map<string, string> | undefined;

/** ftfy's table, built on first use. Exported for the test that checks it against ftfy's size. */
export function ftfyHtmlEntities(): ReadonlyMap<string, string> {
  ftfyEntities ??= buildFtfyEntities();
  return ftfyEntities;
}

/** ftfy's unescape_html: entities with ';' only; a numeric one must be decoded whole. */
function unescapeHtml(text: string): string {
  // Most queries hold no entity: the table (about 20 ms to build) is then never needed.
  if (!text.includes('&')) return text;
  const entities = ftfyHtmlEntities();
  return text.replace(FTFY_ENTITY, (entity) => {
    const known = entities.get(entity);
    if (known !== undefined) return known;
    if (entity.startsWith('&#')) {
      const unescaped = pythonHtmlUnescape(entity);
      return unescaped.includes(';') ? entity : unescaped;
    }
    return entity;
  });
}

/** A pattern matching any key of a character table, for one linear replace per table. */
function anyKeyOf(table: Readonly<Record<string, string>>): RegExp {
  const escaped = Object.keys(table).map((char) => `\\u{${(char.codePointAt(0) as number).toString(16)}}`);
  return new RegExp(`[${escaped.join('')}]`, 'gu');
}

const LIGATURE = anyKeyOf(LIGATURES);
const WIDE_OR_NARROW = anyKeyOf(WIDTH_MAP);

/** Python's str.translate with a table of single characters to strings. */
function translate(text: string, pattern: RegExp, table: Readonly<Record<string, string>>): string {
  return text.replace(pattern, (char) => table[char] ?? char);
}

/** One pass of ftfy's fix_and_explain, fix_encoding left out. */
function fixPass(text: string, unescape: boolean): string {
  let out = unescape ? unescapeHtml(text) : text;
  out = out.replace(C1_CONTROL, (c) => C1_AS_WINDOWS_1252[c.charCodeAt(0) - 0x80] ?? c);
  out = translate(out, LIGATURE, LIGATURES);
  out = translate(out, WIDE_OR_NARROW, WIDTH_MAP);
  out = out.replace(DOUBLE_QUOTE, '"').replace(SINGLE_QUOTE, "'");
  out = out.replace(/\r\n/g, '\n').replace(/[\r\u2028\u2029\x85]/g, '\n');
  out = out.replace(LONE_SURROGATE, '\ufffd');
  out = out.replace(ANSI_ESCAPE, '');
  out = out.replace(FTFY_CONTROL_CHARACTERS, '');
  return out.normalize('NFC');
}

/**
 * ftfy.fix_text with its default settings, except fix_encoding: per line, HTML entities decoded
 * unless the text looks like HTML (from the first line holding a "<" on, as ftfy decides),
 * C1 controls read as Windows-1252, Latin ligatures split, full-width forms narrowed, curly quotes
 * straightened, line breaks unified, lone surrogates replaced, terminal escapes and control
 * characters removed, NFC; repeated until nothing changes (at most MAX_FIX_PASSES times).
 */
export function fixText(text: string): string {
  const out: string[] = [];
  let unescape = true;
  let pos = 0;
  while (pos < text.length) {
    let end = text.indexOf('\n', pos) + 1;
    if (end === 0) end = text.length;
    let segment = text.slice(pos, end);
    if (unescape && segment.includes('<')) unescape = false;
    for (let pass = 0; pass < MAX_FIX_PASSES; pass++) {
      const fixed = fixPass(segment, unescape);
      if (fixed === segment) break;
      segment = fixed;
    }
    out.push(segment);
    pos = end;
  }
  return out.join('');
}

/**
 * The reference clean-up, open_clip's `whitespace_clean(basic_clean(text)).lower()`: fixText,
 * HTML entities decoded twice more as the reference does, whitespace collapsed, lowercased.
 */
export function cleanClipText(text: string): string {
  const basic = pythonHtmlUnescape(pythonHtmlUnescape(fixText(text)));
  return pythonWhitespaceClean(basic).toLowerCase();
}
