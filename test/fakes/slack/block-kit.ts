// Reading what the bot sent back in tests: the cards, buttons and controls of a Block Kit
// message (a private preview through a response_url, or a message posted to a channel).

/** A button or select element as the bot rendered it. */
export interface Element {
  /** "button" or "static_select". */
  type: string;
  /** The action id, with its suffix ("findimage_send:1"). */
  action_id: string;
  /** What the button carries back (JSON for result and paging buttons). */
  value?: string;
  /** A link button's URL. */
  url?: string;
  /** A button's label. */
  text?: { text: string };
  /** A select's placeholder. */
  placeholder?: { text: string };
  /** A select's options. */
  options?: { text: { text: string }; value: string }[];
}

/** One card of a carousel. */
export interface Card {
  title: { text: string };
  subtitle: { text: string };
  hero_image?: { type: string; slack_file: { id: string }; alt_text: string };
  body?: { text: string };
  actions: Element[];
}

/** Anything with blocks: a response_url body, a posted message, chat.update's arguments. */
export interface WithBlocks {
  blocks?: unknown;
}

/** The blocks of a message. */
export function blocksOf(message: WithBlocks | undefined): Record<string, unknown>[] {
  return Array.isArray(message?.blocks) ? (message.blocks as Record<string, unknown>[]) : [];
}

/** The cards of the message's carousel; empty when it has none. */
export function cardsOf(message: WithBlocks | undefined): Card[] {
  const carousel = blocksOf(message).find((b) => b.type === 'carousel');
  return (carousel?.elements ?? []) as Card[];
}

/** The elements of the preview's controls row (paging, Share all, the More like this menu). */
export function controlsOf(message: WithBlocks | undefined): Element[] {
  const controls = blocksOf(message).find((b) => b.type === 'actions' && b.block_id === 'findimage_controls');
  return (controls?.elements ?? []) as Element[];
}

/** Every button and select of the message, in order: cards' buttons, actions blocks' elements. */
export function elementsOf(message: WithBlocks | undefined): Element[] {
  return blocksOf(message).flatMap((block) => {
    if (block.type === 'carousel') return ((block.elements ?? []) as Card[]).flatMap((card) => card.actions);
    if (block.type === 'actions') return (block.elements ?? []) as Element[];
    return [];
  });
}

/** The element labelled `label` (a button's text or a select's placeholder); throws when absent. */
export function labelled(elements: readonly Element[], label: string): Element {
  const found = elements.find((e) => (e.text?.text ?? e.placeholder?.text) === label);
  if (found === undefined) throw new Error(`no element labelled ${label} among ${elements.map((e) => e.text?.text ?? e.placeholder?.text).join(', ')}`);
  return found;
}

/** The labels of elements, in order. */
export function labelsOf(elements: readonly Element[]): string[] {
  return elements.map((e) => e.text?.text ?? e.placeholder?.text ?? '?');
}

/** What a result button carries: query id, image id, rank and score. */
export function hitOf(button: Element): { queryId: string; imageId: string; rank: number; score: number } {
  const parsed = JSON.parse(button.value ?? '{}') as { q: string; i: string; r: number; s: number };
  return { queryId: parsed.q, imageId: parsed.i, rank: parsed.r, score: parsed.s };
}

/** The image ids a message shows, in order (read from its Send or vote buttons). */
export function imageIdsOf(message: WithBlocks | undefined): string[] {
  const ids: string[] = [];
  for (const element of elementsOf(message)) {
    if (!/^findimage_(send|vote_up):/.test(element.action_id)) continue;
    const { imageId } = hitOf(element);
    if (!ids.includes(imageId)) ids.push(imageId);
  }
  return ids;
}

/** The query id the message's result buttons carry. */
export function queryIdOf(message: WithBlocks | undefined): string {
  const button = elementsOf(message).find((e) => /^findimage_(send|vote_up|page|share_all):/.test(e.action_id));
  if (button === undefined) throw new Error('the message has no result or paging button');
  return (JSON.parse(button.value ?? '{}') as { q: string }).q;
}

/** Every mrkdwn text of the message, joined (to look for a sentence anywhere in it). */
export function textOf(message: WithBlocks | undefined): string {
  return JSON.stringify(blocksOf(message));
}
