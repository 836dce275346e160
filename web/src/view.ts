/** The page's steps: one `<section>` each, one shown at a time. */
export const STEPS = ['sign-in', 'countdown', 'waiting-room', 'claim', 'waitlist', 'hold', 'outcome'] as const;
export type Step = (typeof STEPS)[number];

export function $<E extends HTMLElement = HTMLElement>(selector: string): E {
  const element = document.querySelector<E>(selector);
  if (!element) throw new Error(`the page has no ${selector}`);
  return element;
}

export function show(selector: string, visible: boolean): void {
  $(selector).hidden = !visible;
}

export function showOnly(step: Step): void {
  for (const other of STEPS) show(`#${other}`, other === step);
}

/** Shows `message` in the page's `#message` line, or hides the line. */
export function say(message: string | undefined): void {
  const element = $('#message');
  element.textContent = message ?? '';
  element.hidden = !message;
}

export function money(cents: number, currency: string): string {
  return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(cents / 100);
}
