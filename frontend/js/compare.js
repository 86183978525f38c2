// The Compare tab: "Pin this run" keeps the current loss history and a snapshot of the decision
// boundary (the newest frame's grid and the data points); the tab overlays the pinned losses
// (dashed) on the current ones and shows both boundaries side by side, with what changed.

import { formatFixed, language, plotSeparators, t } from './i18n.js';
import { paintBoundary } from './paint.js';

const $ = (id) => document.getElementById(id);
const FONT = { family: '"Helvetica Neue", Helvetica, Arial, sans-serif', size: 10, color: '#555' };
const PLOT_CONFIG = { displayModeBar: false, responsive: true };
const SERIES = [
  ['train_loss', 'train', '#222'],
  ['test_loss', 'test', '#9aa0a6'],
  ['validation_loss', 'validation', '#f59322'],
  // labels: app.chart.train / test / validation and app.chart.trainLoss / testLoss / validationLoss
];

/** The loss rows of a frame's history section: {epoch: [], train_loss: [], ...}. */
export function historyOf(frame) {
  const { header, arrays } = frame || {};
  if (!header?.history || !arrays?.history) return { epoch: [] };
  const rows = header.history.rows || ['epoch', 'train_loss', 'test_loss'];
  const n = header.history.length ?? arrays.history.length / rows.length;
  const out = {};
  rows.forEach((name, i) => {
    out[name] = Array.from(arrays.history.subarray(i * n, (i + 1) * n));
  });
  return out;
}

/** A frame's decision grid as a self-contained snapshot (values copied). */
export function boundaryOf(frame, problem) {
  const { header, arrays } = frame || {};
  if (!header?.grid || !arrays?.grid) return null;
  return {
    values: new Uint8Array(arrays.grid),
    resolution: header.grid.resolution,
    classes: header.grid.classes || 0,
    value_range: header.grid.value_range || [0, 1],
    extent: header.grid.extent || [-6, 6],
    problem,
  };
}

/** Flatten a config to {"training.learning_rate": 0.03, ...}. */
function flatten(obj, prefix = '', out = {}) {
  for (const [k, v] of Object.entries(obj || {})) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object' && !Array.isArray(v)) flatten(v, key, out);
    else out[key] = v;
  }
  return out;
}

/** What differs between two configs, as ["network.activation: tanh → relu", ...]. */
export function configDiff(a, b) {
  const fa = flatten(a);
  const fb = flatten(b);
  const keys = [...new Set([...Object.keys(fa), ...Object.keys(fb)])];
  const show = (v) => (v === undefined ? '–' : Array.isArray(v) ? `[${v.join(', ')}]` : String(v));
  return keys
    .filter((k) => JSON.stringify(fa[k]) !== JSON.stringify(fb[k]))
    .map((k) => `${k}: ${show(fa[k])} → ${show(fb[k])}`);
}

export class CompareView {
  /**
   * @param {{frame: () => object|null, dataset: () => object|null, problem: () => string,
   *          config: () => object|null, isShown: () => boolean, onPin?: (pinned: boolean) => void}} hooks
   */
  constructor(hooks) {
    this.hooks = hooks;
    this.pinned = null;
    this.lastDraw = 0;
    this.timer = null;
    for (const id of ['pin-run', 'pin-run-2']) $(id).addEventListener('click', () => this.pin());
    $('unpin-run').addEventListener('click', () => this.unpin());
    this.showButtons();
    this.captions(null);
  }

  /** The language changed: buttons, captions and the chart get their new labels. */
  relabel() {
    this.showButtons();
    $('compare-diff').dataset.key = '';
    this.draw(true);
    if (!this.hooks.isShown()) this.captions(this.hooks.frame()?.header?.state);
  }

  /** Keep the current run: losses, boundary, points and config. */
  pin() {
    const frame = this.hooks.frame();
    if (!frame) return false;
    const history = historyOf(frame);
    const dataset = this.hooks.dataset();
    this.pinned = {
      history,
      boundary: boundaryOf(frame, this.hooks.problem()),
      points: dataset ? { x: dataset.train?.x || [], y: dataset.train?.y || [] } : null,
      config: JSON.parse(JSON.stringify(this.hooks.config() || {})),
      epoch: frame.header.state?.epoch ?? 0,
      testLoss: frame.header.state?.test_loss ?? null,
      when: new Date(),
    };
    this.showButtons();
    this.hooks.onPin?.(true);
    this.draw(true);
    return true;
  }

  unpin() {
    this.pinned = null;
    this.showButtons();
    this.hooks.onPin?.(false);
    this.draw(true);
  }

  showButtons() {
    const on = Boolean(this.pinned);
    $('unpin-run').hidden = !on;
    $('pin-run').classList.toggle('pinned', on);
    $('pin-run').textContent = on ? t('app.compare.pinnedAgain') : t('app.compare.pin');
    $('pin-run-2').textContent = on ? t('app.compare.pinAgain') : t('app.compare.pin');
  }

  shown() {
    this.draw(true);
  }

  /** A new frame was drawn: follow it at most 4 times a second while the tab is visible. */
  frame() {
    if (!this.hooks.isShown()) return;
    const now = performance.now();
    if (now - this.lastDraw < 250) {
      if (!this.timer) this.timer = setTimeout(() => this.draw(), 260 - (now - this.lastDraw));
      return;
    }
    this.draw();
  }

  /** The captions under the two boundaries and the line above them. */
  captions(st) {
    const p = this.pinned;
    const loss = (v) => (v != null ? ` · ${t('app.chart.testLoss')} ${formatFixed(v, 3)}` : '');
    $('compare-current-cap').textContent = st
      ? `${t('app.compare.now')} · ${t('app.chart.epoch')} ${st.epoch}${loss(st.test_loss)}`
      : t('app.compare.now');
    $('compare-pinned-cap').textContent = p
      ? `${t('app.compare.pinned')} · ${t('app.chart.epoch')} ${p.epoch}${loss(p.testLoss)}`
      : t('app.compare.nothingPinned');
    $('compare-info').textContent = p
      ? t('app.compare.pinnedAt', { time: p.when.toLocaleTimeString(language()) })
      : t('app.compare.info');
  }

  draw(force = false) {
    clearTimeout(this.timer);
    this.timer = null;
    if (!force && !this.hooks.isShown()) return;
    if (!this.hooks.isShown()) return;
    this.lastDraw = performance.now();
    const frame = this.hooks.frame();
    const now = historyOf(frame);
    const p = this.pinned;
    const traces = [];
    for (const [key, label, color] of SERIES) {
      if (now[key]?.length) {
        traces.push({
          type: 'scatter',
          mode: 'lines',
          name: `${t(`app.chart.${label}`)} (${t('app.compare.now')})`,
          x: now.epoch,
          y: now[key],
          line: { color, width: 1.6 },
          hovertemplate: `${t('app.compare.now')} · ${t('app.chart.epoch')} %{x}<br>${t(`app.chart.${label}Loss`)} %{y:.4f}<extra></extra>`,
        });
      }
      if (p && p.history[key]?.length) {
        traces.push({
          type: 'scatter',
          mode: 'lines',
          name: `${t(`app.chart.${label}`)} (${t('app.compare.pinned')})`,
          x: p.history.epoch,
          y: p.history[key],
          line: { color, width: 1.6, dash: 'dash' },
          hovertemplate: `${t('app.compare.pinned')} · ${t('app.chart.epoch')} %{x}<br>${t(`app.chart.${label}Loss`)} %{y:.4f}<extra></extra>`,
        });
      }
    }
    window.Plotly.react(
      $('compare-loss'),
      traces,
      {
        height: 170,
        margin: { l: 40, r: 6, t: 4, b: 26 },
        font: FONT,
        separators: plotSeparators(),
        xaxis: { title: { text: t('app.chart.epoch'), font: { size: 10 }, standoff: 0 }, gridcolor: '#eee', zeroline: false, fixedrange: true },
        yaxis: { rangemode: 'tozero', gridcolor: '#eee', zeroline: false, fixedrange: true },
        legend: { orientation: 'h', x: 0, y: 1, yanchor: 'bottom', font: { size: 9 } },
        paper_bgcolor: 'rgba(0,0,0,0)',
        plot_bgcolor: 'rgba(0,0,0,0)',
      },
      PLOT_CONFIG,
    );
    const dataset = this.hooks.dataset();
    const current = boundaryOf(frame, this.hooks.problem());
    paintBoundary($('compare-current'), current, dataset?.train);
    paintBoundary($('compare-pinned'), p?.boundary ?? null, p?.points);
    this.captions(frame?.header?.state);
    const diff = p ? configDiff(p.config, this.hooks.config()) : [];
    const list = $('compare-diff');
    const key = JSON.stringify(diff);
    if (list.dataset.key !== key) {
      list.dataset.key = key;
      const items = diff.slice(0, 10).map((text) => {
        const li = document.createElement('li');
        li.textContent = text;
        return li;
      });
      if (p && !diff.length) {
        const li = document.createElement('li');
        li.textContent = t('app.compare.same');
        items.push(li);
      }
      if (diff.length > 10) {
        const li = document.createElement('li');
        li.textContent = t('app.compare.more', { n: diff.length - 10 });
        items.push(li);
      }
      list.replaceChildren(...items);
    }
  }
}
