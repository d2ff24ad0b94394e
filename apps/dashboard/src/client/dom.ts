/**
 * A tiny DOM builder. Text is always set as text (never parsed as HTML), attributes by name; no inline
 * styles or event-handler attributes, so the page works under a strict Content-Security-Policy.
 */

export type Child = Node | string | number | null | undefined | false | readonly Child[];

function append(parent: Node, child: Child): void {
  if (child === null || child === undefined || child === false) return;
  if (Array.isArray(child)) {
    for (const c of child) append(parent, c);
    return;
  }
  parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
}

/** `h('a', { href: '/x', class: 'link' }, 'text', otherNode)`. Boolean attributes: true sets, false omits. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | boolean | null | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const c of children) append(el, c);
  return el;
}

/** Attach an event listener and return the element (for chaining inside `h` trees). */
export function on<E extends HTMLElement, T extends keyof HTMLElementEventMap>(
  el: E,
  type: T,
  listener: (event: HTMLElementEventMap[T]) => void,
): E {
  el.addEventListener(type, listener as EventListener);
  return el;
}

/** Replace the children of `parent`. */
export function mount(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  for (const c of children) append(parent, c);
}
