// The learning-rate range test panel: ask the server for a sweep over the websocket
// ({"type": "lr_range_test", ...}), show its progress and the loss-vs-rate curve on a log axis,
// mark the suggested rate and offer to apply it (docs/protocol.md, "Learning-rate range test").

import { formatNumber } from './menus.js';
import { t } from './i18n.js';

const $ = (id) => document.getElementById(id);

/** The sweep the button asks for. */
export const RANGE_TEST = { type: 'lr_range_test', start: 1e-7, end: 10, steps: 100 };

/** A rate people can read and type: three significant digits. */
export function roundRate(r) {
  return Number(Number(r).toPrecision(3));
}

export class LrFinder {
  /**
   * @param {{send: (msg: object) => boolean, apply: (rate: number) => void, draw: (el: HTMLElement, result: object) => void}} hooks
   *   send returns false when there is no session to ask.
   */
  constructor(hooks) {
    this.hooks = hooks;
    this.running = false;
    this.result = null;
    this.suggested = null;
    this.watchdog = null;
    $('lr-find').addEventListener('click', () => this.start());
    $('lr-find-apply').addEventListener('click', () => {
      if (this.suggested != null) this.hooks.apply(this.suggested);
    });
  }

  start() {
    if (this.running) return;
    if (!this.hooks.send({ ...RANGE_TEST })) {
      this.fail(t('app.status.noSession'));
      return;
    }
    this.running = true;
    this.result = null;
    this.suggested = null;
    $('lr-find').disabled = true;
    $('lr-find').textContent = t('app.lrFind.finding');
    $('lr-find-progress').hidden = false;
    $('lr-find-progress').value = 0;
    $('lr-find-apply').hidden = true;
    this.setText(() => t('app.lrFind.sweepingStart'));
    this.arm();
  }

  /** Give up if the server says nothing for a long while (e.g. an older server ignores it). */
  arm() {
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => {
      if (this.running) this.fail(t('app.lrFind.noAnswer'));
    }, 60_000);
  }

  /** The result line; `text` is a function, written again when the language changes. */
  setText(text, level = 'info') {
    const el = $('lr-find-result');
    this.text = text;
    el.textContent = text();
    el.dataset.level = level;
  }

  /** The language changed: the button, the result line and the chart get their new labels. */
  relabel() {
    $('lr-find').textContent = this.running ? t('app.lrFind.finding') : t('app.lrFind.find');
    const el = $('lr-find-result');
    if (this.text) el.textContent = this.text();
    if (this.suggested != null) $('lr-find-apply').textContent = t('app.lrFind.applyRate', { rate: formatNumber(this.suggested) });
    if (this.result && !$('lr-find-chart').hidden) {
      const { learning_rates: lrs, losses } = this.result;
      this.hooks.draw($('lr-find-chart'), { learning_rates: lrs, losses, suggested: this.suggested ?? undefined });
    }
  }

  /** A {"type": "lr_range_test", ...} message from the server. */
  message(msg) {
    if (msg.error || msg.message) {
      this.fail(msg.error || msg.message);
      return;
    }
    this.arm();
    const lrs = msg.learning_rates || this.result?.learning_rates || [];
    const losses = msg.losses || this.result?.losses || [];
    this.result = { ...msg, learning_rates: lrs, losses };
    const chart = $('lr-find-chart');
    chart.hidden = false;
    if (typeof msg.progress === 'number') $('lr-find-progress').value = Math.max(0, Math.min(1, msg.progress));
    if (!msg.done) {
      this.hooks.draw(chart, { learning_rates: lrs, losses });
      const percent = Math.round((msg.progress || 0) * 100);
      this.setText(() => t('app.lrFind.sweeping', { percent: String(percent) }));
      return;
    }
    this.finish();
    const suggested = msg.suggested;
    if (suggested == null || !Number.isFinite(suggested) || suggested <= 0) {
      this.hooks.draw(chart, { learning_rates: lrs, losses });
      this.setText(() => t('app.lrFind.noSuggestion'), 'warn');
      return;
    }
    this.suggested = roundRate(suggested);
    this.hooks.draw(chart, { learning_rates: lrs, losses, suggested: this.suggested });
    const rate = this.suggested;
    const lowest = msg.min_loss_rate != null ? roundRate(msg.min_loss_rate) : null;
    this.setText(() => {
      const minRate = lowest != null ? t('app.lrFind.lowestAt', { rate: formatNumber(lowest) }) : '';
      return t('app.lrFind.suggested', { rate: formatNumber(rate), minRate });
    });
    const apply = $('lr-find-apply');
    apply.hidden = false;
    apply.textContent = t('app.lrFind.applyRate', { rate: formatNumber(rate) });
    apply.dataset.value = String(this.suggested);
  }

  /** An error from the server while a sweep was asked for. */
  fail(message) {
    this.finish();
    this.setText(() => t('app.lrFind.unavailable', { message }), 'error');
  }

  finish() {
    this.running = false;
    clearTimeout(this.watchdog);
    $('lr-find').disabled = false;
    $('lr-find').textContent = t('app.lrFind.find');
    $('lr-find-progress').hidden = true;
  }
}
