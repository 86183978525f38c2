// Languages: one string catalogue per language (/static/i18n/{lang}.json), looked up by dotted key.
// The URL keeps the choice (`lang=` in the hash); without one the browser's language decides.

export const LANGUAGES = ['en', 'es'];
const DEFAULT_LANGUAGE = 'en';

let current = DEFAULT_LANGUAGE;
let strings = {};
let english = {}; // shown (and reported once) when a key is missing from the current catalogue
const listeners = new Set();
const reported = new Set();

async function fetchCatalogue(code) {
  const response = await fetch(`/static/i18n/${code}.json`);
  if (!response.ok) throw new Error(`no string catalogue for ${code}`);
  return response.json();
}

/** The language the browser prefers among ours, else English. */
export function browserLanguage() {
  for (const tag of navigator.languages || [navigator.language || '']) {
    const code = String(tag).slice(0, 2).toLowerCase();
    if (LANGUAGES.includes(code)) return code;
  }
  return DEFAULT_LANGUAGE;
}

/** Load a language's catalogue, make it current, translate the page and tell listeners. */
export async function setLanguage(code) {
  const lang = LANGUAGES.includes(code) ? code : DEFAULT_LANGUAGE;
  if (!Object.keys(english).length) english = await fetchCatalogue(DEFAULT_LANGUAGE);
  strings = lang === DEFAULT_LANGUAGE ? english : await fetchCatalogue(lang);
  current = lang;
  document.documentElement.lang = lang;
  translatePage(document);
  for (const fn of listeners) fn(lang);
  return lang;
}

export function language() {
  return current;
}

/** Call `fn(lang)` after every language change; returns an unsubscribe function. */
export function onLanguageChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function lookup(table, key) {
  let node = table;
  for (const part of key.split('.')) {
    if (node == null || typeof node !== 'object') return undefined;
    node = node[part];
  }
  return typeof node === 'string' ? node : undefined;
}

/** The string for `key` in the current language, `{name}` placeholders filled from `vars`. */
export function t(key, vars = {}) {
  let text = lookup(strings, key);
  if (text === undefined) {
    text = lookup(english, key);
    if (!reported.has(key)) {
      reported.add(key);
      console.warn(`i18n: missing string ${current}:${key}`);
    }
  }
  if (text === undefined) return key;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? formatValue(vars[name]) : m));
}

function formatValue(value) {
  return typeof value === 'number' ? formatNumber(value) : String(value);
}

/** A number written the current language's way (decimal comma in Spanish). */
export function formatNumber(value, options = {}) {
  if (value == null || Number.isNaN(value)) return '–';
  return new Intl.NumberFormat(current, { maximumFractionDigits: 3, ...options }).format(value);
}

/** `value` with exactly `digits` decimals, no grouping: 0.123 / 0,123. */
export function formatFixed(value, digits = 3) {
  if (value == null || !Number.isFinite(Number(value))) return '–';
  return formatNumber(Number(value), { minimumFractionDigits: digits, maximumFractionDigits: digits, useGrouping: false });
}

/** A fraction as a percentage: 0.965 -> 96.5% / 96,5 %. */
export function formatPercent(value, digits = 1) {
  if (value == null || !Number.isFinite(Number(value))) return '–';
  return formatNumber(Number(value), { style: 'percent', minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** plotly's layout.separators for the current language: decimal mark, then thousands mark. */
export function plotSeparators() {
  return current === 'es' ? ',.' : '.,';
}

/** The string for `key` if a catalogue has it, else `fallback` (e.g. a label from the server's catalog). */
export function tOr(key, fallback, vars = {}) {
  return lookup(strings, key) !== undefined || lookup(english, key) !== undefined ? t(key, vars) : fallback;
}

/**
 * Translate marked elements under `root`: data-i18n (text), data-i18n-title, data-i18n-placeholder,
 * data-i18n-aria-label (attributes).
 */
export function translatePage(root) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const [attr, data] of [['title', 'i18nTitle'], ['placeholder', 'i18nPlaceholder'], ['aria-label', 'i18nAriaLabel']]) {
    for (const el of root.querySelectorAll(`[data-i18n-${attr}]`)) el.setAttribute(attr, t(el.dataset[data]));
  }
}
