// Making text that users wrote (queries, file names) safe to show in Slack mrkdwn, and fitting
// it into Block Kit's length limits.

/**
 * Lookalikes for mrkdwn's formatting characters. Slack has no escape for *, _, ~ and `, so a
 * file named "*urgent*" would render bold; these characters look the same and format nothing.
 */
const FORMATTING_LOOKALIKES: Record<string, string> = {
  '*': '\u2217', // ASTERISK OPERATOR
  _: '\u02cd', // MODIFIER LETTER LOW MACRON
  '~': '\u223c', // TILDE OPERATOR
  '`': '\u02cb', // MODIFIER LETTER GRAVE ACCENT
};

/**
 * An underscore that can open or close italics: one at a word's edge. Underscores inside a word
 * (invalid_auth, SLACK_BOT_TOKEN) format nothing and are kept, so identifiers stay readable.
 */
const EDGE_UNDERSCORE = /(?<![\p{L}\p{N}])_|_(?![\p{L}\p{N}])/gu;

/**
 * Escapes user text for mrkdwn: &, < and > become entities (so `<!channel>` or a fake link
 * cannot be injected) and formatting characters become inert lookalikes.
 */
export function escapeMrkdwn(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[*~`]/g, (c) => FORMATTING_LOOKALIKES[c] ?? c)
    .replace(EDGE_UNDERSCORE, FORMATTING_LOOKALIKES._ ?? '_');
}

/** Undoes the three entities Slack applies to text it sends (slash command text). */
export function decodeSlackEntities(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** Cuts `text` to at most `max` characters (code points), ending with an ellipsis when cut. */
export function truncate(text: string, max: number): string {
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  return `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}

/**
 * Escapes, then truncates without splitting an entity: the escaped form can be up to five
 * times longer, so the raw text is cut at the longest length whose escaped form fits.
 */
export function escapeAndTruncate(text: string, max: number): string {
  const whole = escapeMrkdwn(text);
  if (Array.from(whole).length <= max) return whole;
  let low = 1;
  let high = max;
  let best = escapeMrkdwn(truncate(text, 1));
  while (low <= high) {
    const mid = Math.floor((low + high) / 2);
    const candidate = escapeMrkdwn(truncate(text, mid));
    if (Array.from(candidate).length <= max) {
      best = candidate;
      low = mid + 1;
    } else {
      high = mid - 1;
    }
  }
  return best;
}

/**
 * Text for plain_text fields such as alt text: Slack does not format them, but angle brackets
 * are swapped for lookalikes so no client ever reads a mention or link out of a file name.
 */
export function plainText(text: string, max: number): string {
  return truncate(text.replace(/</g, '\u2039').replace(/>/g, '\u203a'), max);
}
