// Building blocks of the catalog's menus: labels and notes in the page's language, numbers as
// menus write them, and filling and selecting a <select>'s options.

import { language, tOr } from './i18n.js';

/** Numbers for menus: 0.00001 rather than 1e-5. */
export function formatNumber(v) {
  if (v === 0) return '0';
  const s = Number(v).toPrecision(6);
  const n = Number.parseFloat(s);
  const text = Math.abs(n) < 1e-4 ? n.toFixed(Math.min(20, Math.ceil(-Math.log10(Math.abs(n))) + 1)).replace(/0+$/, '') : String(n);
  // Decimal comma in Spanish (menus and read-outs only; values and URLs keep the point).
  return language() === 'es' ? text.replace('.', ',') : text;
}

/** A catalog entry's label in the page's language (the server's English label as a fallback). */
export function catalogLabel(group, item) {
  return tOr(`catalog.${group}.${item.name}`, item.label);
}

/** A catalog entry's note (tooltip) in the page's language, '' when it has none. */
export function catalogNote(group, item) {
  return item.note ? tOr(`catalogNote.${group}.${item.name}`, item.note) : '';
}

/** "Label: note" for a tooltip. */
export function catalogTitle(group, item) {
  const note = catalogNote(group, item);
  return note ? `${catalogLabel(group, item)}: ${note}` : catalogLabel(group, item);
}

export function option(value, label) {
  const o = document.createElement('option');
  o.value = String(value);
  o.textContent = label;
  return o;
}

export function fillSelect(select, choices) {
  select.replaceChildren(...choices.map((c) => option(c.value, c.label)));
}

/** Select `value`, adding it as an option first if the menu lacks it (e.g. lr=0.05 in a URL). */
export function selectValue(select, value, label = String(value)) {
  const text = String(value);
  let found = [...select.options].some((o) => o.value === text);
  if (!found) {
    const numeric = [...select.options].every((o) => Number.isFinite(Number(o.value)));
    const extra = option(text, label);
    extra.dataset.extra = 'true';
    if (numeric) {
      const before = [...select.options].find((o) => Number(o.value) > Number(value));
      select.insertBefore(extra, before || null);
    } else select.appendChild(extra);
    found = true;
  }
  select.value = text;
}
