// Reads docker-compose.yml for the deployment tests, without a YAML dependency: the block style
// compose files are written in (mappings, "- " sequences, plain, "double" and 'single' quoted
// scalars, [a, b] flow lists of scalars, comments). Anything outside that subset (anchors,
// block scalars, flow mappings, tabs) throws, so a test never checks a file it misread.

/** A parsed YAML value of the supported subset. */
export type YamlValue = string | number | boolean | null | YamlValue[] | { [key: string]: YamlValue };

interface Line {
  /** 1-based line number, for errors. */
  number: number;
  indent: number;
  text: string;
}

/** The text of a line without its comment: a # at the start or after a space, outside quotes. */
function withoutComment(text: string): string {
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote !== undefined) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '#' && (i === 0 || text[i - 1] === ' ')) {
      return text.slice(0, i).trimEnd();
    }
  }
  return text.trimEnd();
}

function fail(line: Line | undefined, why: string): never {
  throw new Error(`compose file line ${line?.number ?? 'end'}: ${why}`);
}

const DOUBLE_ESCAPES: Readonly<Record<string, string>> = { '\\': '\\', '"': '"', n: '\n', r: '\r', t: '\t', '/': '/' };

/** One scalar (or [flow, list]) as written after "key: " or "- ". */
function scalar(raw: string, line: Line): YamlValue {
  if (raw.startsWith('"')) {
    let out = '';
    for (let i = 1; i < raw.length; i++) {
      const c = raw[i] as string;
      if (c === '"') {
        if (i !== raw.length - 1) fail(line, 'text after a closing quote');
        return out;
      }
      if (c === '\\') {
        const escaped = DOUBLE_ESCAPES[raw[i + 1] ?? ''];
        if (escaped === undefined) fail(line, `unsupported escape \\${raw[i + 1] ?? ''}`);
        out += escaped;
        i++;
      } else {
        out += c;
      }
    }
    fail(line, 'unterminated double-quoted string');
  }
  if (raw.startsWith("'")) {
    if (!raw.endsWith("'") || raw.length < 2) fail(line, 'unterminated single-quoted string');
    return raw.slice(1, -1).replaceAll("''", "'");
  }
  if (raw.startsWith('[')) {
    if (!raw.endsWith(']')) fail(line, 'flow list not closed on its line');
    const inner = raw.slice(1, -1).trim();
    return inner === '' ? [] : inner.split(',').map((part) => scalar(part.trim(), line));
  }
  if (/^[{&*!|>%@`]/.test(raw)) fail(line, `unsupported YAML: ${raw}`);
  if (raw === 'true' || raw === 'false') return raw === 'true';
  if (raw === 'null' || raw === '~') return null;
  if (/^-?\d+$/.test(raw)) return Number(raw);
  return raw;
}

/** Splits "key: value" (value may be empty); undefined when the text is not a mapping entry. */
function entry(text: string): { key: string; value: string } | undefined {
  const match = /^([A-Za-z0-9_.\-/]+|"[^"]*"):(?: (.*))?$/.exec(text);
  if (match === null) return undefined;
  const key = (match[1] as string).replace(/^"(.*)"$/, '$1');
  return { key, value: (match[2] ?? '').trim() };
}

class Reader {
  #at = 0;
  readonly lines: Line[];

  constructor(lines: Line[]) {
    this.lines = lines;
  }

  parse(): YamlValue {
    const value = this.#block(0);
    if (this.#at < this.lines.length) fail(this.lines[this.#at], 'unexpected indentation');
    return value;
  }

  #block(indent: number): YamlValue {
    const first = this.lines[this.#at];
    if (first === undefined || first.indent !== indent) fail(first, `expected a block at indent ${indent}`);
    return first.text === '-' || first.text.startsWith('- ') ? this.#sequence(indent) : this.#mapping(indent);
  }

  /** The value after "key:" or "- ": inline, or the block on the lines below. */
  #value(raw: string, line: Line, parentIndent: number, sequenceMayShareIndent: boolean): YamlValue {
    if (raw !== '') return scalar(raw, line);
    const next = this.lines[this.#at];
    if (next === undefined) return null;
    if (next.indent > parentIndent) return this.#block(next.indent);
    if (sequenceMayShareIndent && next.indent === parentIndent && next.text.startsWith('- ')) return this.#sequence(parentIndent);
    return null;
  }

  #mapping(indent: number): { [key: string]: YamlValue } {
    const out: { [key: string]: YamlValue } = {};
    for (let line = this.lines[this.#at]; line !== undefined && line.indent === indent; line = this.lines[this.#at]) {
      if (line.text.startsWith('- ')) break;
      const found = entry(line.text);
      if (found === undefined) fail(line, `expected "key: value", got ${line.text}`);
      if (found.key in out) fail(line, `duplicate key ${found.key}`);
      this.#at++;
      out[found.key] = this.#value(found.value, line, indent, true);
    }
    return out;
  }

  #sequence(indent: number): YamlValue[] {
    const out: YamlValue[] = [];
    for (let line = this.lines[this.#at]; line !== undefined && line.indent === indent; line = this.lines[this.#at]) {
      if (line.text !== '-' && !line.text.startsWith('- ')) break;
      const rest = line.text === '-' ? '' : line.text.slice(2).trim();
      if (rest !== '' && entry(rest) !== undefined) {
        // "- key: value": a mapping whose keys sit two columns in; read this line as its first.
        this.lines[this.#at] = { number: line.number, indent: indent + 2, text: rest };
        out.push(this.#mapping(indent + 2));
      } else {
        this.#at++;
        out.push(this.#value(rest, line, indent, false));
      }
    }
    return out;
  }
}

/** Parses the text of a compose file (or any YAML of the subset); throws on anything else. */
export function parseComposeYaml(text: string): YamlValue {
  const lines: Line[] = [];
  for (const [index, raw] of text.split('\n').entries()) {
    if (raw.includes('\t')) fail({ number: index + 1, indent: 0, text: raw }, 'tabs are not allowed');
    const text = withoutComment(raw);
    if (text.trim() === '') continue;
    if (text.trim() === '---') fail({ number: index + 1, indent: 0, text }, 'one document only');
    lines.push({ number: index + 1, indent: text.length - text.trimStart().length, text: text.trim() });
  }
  return new Reader(lines).parse();
}
