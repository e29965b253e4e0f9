// Small DOM helpers. Every text from the server (file names above all) goes in as text nodes,
// never as HTML, so a name like <img onerror=...> shows as typed and never runs.

type Child = Node | string | null | undefined | false;

/** An element with attributes and children; strings become text nodes. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | boolean | undefined> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return element;
}

/** Replaces an element's children. */
export function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren(...children.filter((c): c is Node | string => c !== null && c !== undefined && c !== false));
}

/** A message block for the deliberate loading, empty and error states. */
export function stateBlock(kind: 'loading' | 'empty' | 'error', title: string, detail?: string): HTMLElement {
  return h(
    'div',
    { class: `state state-${kind}`, role: kind === 'error' ? 'alert' : 'status', 'data-state': kind },
    kind === 'loading' ? h('span', { class: 'spinner', 'aria-hidden': 'true' }) : null,
    h('p', { class: 'state-title' }, title),
    detail === undefined ? null : h('p', { class: 'state-detail' }, detail),
  );
}

/** A date as the person's locale writes it. */
export function formatDate(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? '' : date.toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
}
