/** A child of `h()`: nodes and text; null, undefined and false are skipped so conditionals stay inline. */
export type Child = Node | string | null | undefined | false;

type Listener = (event: Event) => void;
export type Attributes = Record<string, string | number | boolean | Listener | null | undefined>;

/**
 * Builds an element. `on…` attributes are event listeners; `true` sets a
 * boolean attribute, `false`/null/undefined leave it out. Text children are
 * text nodes, so nothing here is ever parsed as HTML.
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (typeof value === 'function') element.addEventListener(name.slice(2).toLowerCase(), value);
    else if (value === true) element.setAttribute(name, '');
    else if (value !== false && value !== null && value !== undefined) element.setAttribute(name, String(value));
  }
  for (const child of children) {
    if (child !== null && child !== undefined && child !== false) element.append(child);
  }
  return element;
}

let nextId = 0;
/** A document-unique id for aria-labelledby / aria-describedby pairs. */
export const uniqueId = (prefix: string): string => `${prefix}-${++nextId}`;
