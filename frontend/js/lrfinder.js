// The learning-rate range test panel: ask the server for a sweep over the websocket
// ({"type": "lr_range_test", ...}), show its progress and the loss-vs-rate curve on a log axis,
// mark the suggested rate and offer to apply it (docs/protocol.md, "Learning-rate range test").

import { formatNumber } from './controls.js';

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
      this.fail('no session yet');
      return;
    }
    this.running = true;
    this.result = null;
    this.suggested = null;
    $('lr-find').disabled = true;
    $('lr-find').textContent = 'Finding…';
    $('lr-find-progress').hidden = false;
    $('lr-find-progress').value = 0;
    $('lr-find-apply').hidden = true;
    this.setText('sweeping the learning rate on a copy of the network…');
    this.arm();
  }

  /** Give up if the server says nothing for a long while (e.g. an older server ignores it). */
  arm() {
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => {
      if (this.running) this.fail('no answer from the server');
    }, 60_000);
  }

  setText(text, level = 'info') {
    const el = $('lr-find-result');
    el.textContent = text;
    el.dataset.level = level;
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
      this.setText(`sweeping… ${Math.round((msg.progress || 0) * 100)}%`);
      return;
    }
    this.finish();
    const suggested = msg.suggested;
    if (suggested == null || !Number.isFinite(suggested) || suggested <= 0) {
      this.hooks.draw(chart, { learning_rates: lrs, losses });
      this.setText('no rate to suggest: the loss never fell', 'warn');
      return;
    }
    this.suggested = roundRate(suggested);
    this.hooks.draw(chart, { learning_rates: lrs, losses, suggested: this.suggested });
    const minRate = msg.min_loss_rate != null ? ` (lowest loss at ${formatNumber(roundRate(msg.min_loss_rate))})` : '';
    this.setText(`suggested learning rate ${formatNumber(this.suggested)}${minRate}`);
    const apply = $('lr-find-apply');
    apply.hidden = false;
    apply.textContent = `Apply ${formatNumber(this.suggested)}`;
    apply.dataset.value = String(this.suggested);
  }

  /** An error from the server while a sweep was asked for. */
  fail(message) {
    this.finish();
    this.setText(`the learning-rate finder is not available: ${message}`, 'error');
  }

  finish() {
    this.running = false;
    clearTimeout(this.watchdog);
    $('lr-find').disabled = false;
    $('lr-find').textContent = 'Find learning rate';
    $('lr-find-progress').hidden = true;
  }
}
