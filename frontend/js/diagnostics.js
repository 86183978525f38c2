// The Diagnostics tab: GET /api/sessions/{id}/diagnostics (docs/protocol.md, "Looking inside"),
// polled about once a second while the tab is on screen and something changed: gradient norm
// per layer over the epochs (log axis: vanishing and exploding gradients), the fraction of dead
// units per hidden layer, and weight and activation histograms per layer as small multiples.

import { formatPercent, plotSeparators, t } from './i18n.js';
import { pollView } from './poll.js';

const $ = (id) => document.getElementById(id);
const FONT = { family: '"Helvetica Neue", Helvetica, Arial, sans-serif', size: 10, color: '#555' };
const PLOT_CONFIG = { displayModeBar: false, responsive: true };
// Layers from the input (dark) to the output (light), so depth reads as a gradient.
const LAYER_COLORS = ['#183d4e', '#0877bd', '#2ca25f', '#8856a7', '#e7298a', '#f59322', '#8c6d31'];

function Plotly() {
  return window.Plotly;
}

/** "layer 1" ... for hidden layers, "output" for the last. */
export function layerName(i, count) {
  return i === count - 1 ? t('app.diag.output') : t('app.diag.layer', { n: String(i + 1) });
}

/** Plotly traces and layout for per-layer histograms ({layer, counts, edges}) in a grid of small plots. */
export function histogramFigure(hists, color, { names, height = 190 } = {}) {
  const n = hists.length;
  const cols = Math.min(4, Math.max(1, n));
  const rows = Math.max(1, Math.ceil(n / cols));
  const traces = [];
  const layout = {
    height: Math.max(height, rows * 95 + 10),
    margin: { l: 8, r: 4, t: 14, b: 16 },
    font: FONT,
    separators: plotSeparators(),
    showlegend: false,
    grid: { rows, columns: cols, pattern: 'independent', xgap: 0.12, ygap: 0.32 },
    annotations: [],
    paper_bgcolor: 'rgba(0,0,0,0)',
    plot_bgcolor: 'rgba(0,0,0,0)',
    bargap: 0.05,
  };
  hists.forEach((h, i) => {
    const suffix = i === 0 ? '' : String(i + 1);
    const edges = h.edges || [];
    const centers = (h.counts || []).map((_, b) => (edges[b] + edges[b + 1]) / 2);
    const widths = (h.counts || []).map((_, b) => edges[b + 1] - edges[b]);
    const name = names ? names[i] : t('app.diag.layer', { n: String(h.layer + 1) });
    traces.push({
      type: 'bar',
      x: centers,
      y: h.counts,
      width: widths,
      marker: { color },
      xaxis: `x${suffix}`,
      yaxis: `y${suffix}`,
      hovertemplate: `${name}<br>%{x:.3g}: %{y}<extra></extra>`,
    });
    layout[`xaxis${suffix}`] = { tickfont: { size: 8 }, nticks: 3, zeroline: true, zerolinecolor: '#ccc', showgrid: false, fixedrange: true };
    layout[`yaxis${suffix}`] = { showticklabels: false, showgrid: false, zeroline: false, fixedrange: true };
    layout.annotations.push({
      text: name,
      showarrow: false,
      xref: `x${suffix} domain`,
      yref: `y${suffix} domain`,
      x: 0,
      y: 1.02,
      xanchor: 'left',
      yanchor: 'bottom',
      font: { size: 10, color: '#333' },
    });
  });
  return { traces, layout };
}

export class DiagnosticsView {
  /**
   * @param {{load: () => Promise<object|null>, changeKey: () => string, isShown: () => boolean}} hooks
   */
  constructor(hooks) {
    this.hooks = hooks;
    this.data = null;
    this.fetchedKey = null;
    this.inflight = false;
    this.errors = 0;
    this.timer = setInterval(() => this.poll(), 1000);
  }

  shown() {
    this.render();
    this.poll();
  }

  /** The language changed: draw again with the new labels. */
  relabel() {
    this.render();
  }

  reset() {
    this.data = null;
    this.fetchedKey = null;
  }

  async poll() {
    const d = await pollView(this, this.hooks.isShown(), (err) => {
      $('diag-note').textContent = t('app.diag.unavailable', { message: err.message });
    });
    if (d) {
      this.data = d;
      this.render();
    }
  }

  render() {
    const d = this.data;
    if (!d || !this.hooks.isShown()) return;
    const P = Plotly();
    const g = d.grad_norms || { epoch: [], layers: [] };
    const count = g.layers.length;
    const grad = g.layers.map((ys, i) => ({
      type: 'scatter',
      mode: 'lines',
      name: layerName(i, count),
      x: g.epoch,
      // A log axis cannot show 0: such points are left out (gaps).
      y: ys.map((v) => (v > 0 && Number.isFinite(v) ? v : null)),
      line: { color: LAYER_COLORS[i % LAYER_COLORS.length], width: 1.5 },
      hovertemplate: `${layerName(i, count)}<br>${t('app.chart.epoch')} %{x}<br>‖grad‖ %{y:.3g}<extra></extra>`,
    }));
    P.react(
      $('grad-chart'),
      grad,
      {
        height: 190,
        margin: { l: 44, r: 6, t: 34, b: 26 },
        font: FONT,
        separators: plotSeparators(),
        xaxis: { title: { text: t('app.chart.epoch'), font: { size: 10 }, standoff: 0 }, gridcolor: '#eee', zeroline: false, fixedrange: true },
        yaxis: { type: 'log', exponentformat: 'power', dtick: 1, gridcolor: '#eee', fixedrange: true },
        legend: { orientation: 'h', x: 0, y: 1.02, yanchor: 'bottom', font: { size: 9 } },
        paper_bgcolor: 'rgba(0,0,0,0)',
        plot_bgcolor: 'rgba(0,0,0,0)',
      },
      PLOT_CONFIG,
    );

    const dead = d.dead_units || [];
    P.react(
      $('dead-chart'),
      [
        {
          type: 'bar',
          x: dead.map((_, i) => t('app.diag.layer', { n: String(i + 1) })),
          y: dead,
          text: dead.map((v) => formatPercent(v, 0)),
          textposition: 'outside',
          cliponaxis: false,
          marker: { color: dead.map((v) => (v > 0.5 ? '#e74c3c' : v > 0 ? '#f59322' : '#9aa0a6')) },
          hovertemplate: `%{x}: %{y:.0%} ${t('app.diag.dead')}<extra></extra>`,
        },
      ],
      {
        height: 120,
        margin: { l: 36, r: 6, t: 12, b: 22 },
        font: FONT,
        separators: plotSeparators(),
        xaxis: { type: 'category', fixedrange: true },
        yaxis: { range: [0, 1.15], tickformat: '.0%', tickvals: [0, 0.5, 1], gridcolor: '#eee', fixedrange: true },
        paper_bgcolor: 'rgba(0,0,0,0)',
        plot_bgcolor: 'rgba(0,0,0,0)',
      },
      PLOT_CONFIG,
    );

    const w = d.weights || [];
    const wf = histogramFigure(w, '#0877bd', { names: w.map((h, i) => layerName(i, w.length)) });
    $('weight-hist').style.height = `${wf.layout.height}px`;
    P.react($('weight-hist'), wf.traces, wf.layout, PLOT_CONFIG);
    const a = d.activations || [];
    const af = histogramFigure(a, '#2ca25f', { names: a.map((h) => t('app.diag.layer', { n: String(h.layer + 1) })) });
    $('act-hist').style.height = `${af.layout.height}px`;
    P.react($('act-hist'), af.traces, af.layout, PLOT_CONFIG);

    const vanishing = g.layers.length > 1 ? this.vanishing(g) : '';
    $('diag-note').textContent =
      t('app.diag.note') + vanishing + (dead.some((v) => v > 0) ? t('app.diag.deadNote') : '');
  }

  /** A sentence when the first layer's gradient is far smaller than the last one's. */
  vanishing(g) {
    const last = (ys) => {
      for (let i = ys.length - 1; i >= 0; i -= 1) if (ys[i] > 0) return ys[i];
      return null;
    };
    const first = last(g.layers[0]);
    const out = last(g.layers[g.layers.length - 1]);
    if (!first || !out) return '';
    const ratio = out / first;
    if (ratio > 100) return t('app.diag.vanishing', { ratio: Math.round(ratio) });
    if (ratio < 0.01) return t('app.diag.exploding', { ratio: Math.round(1 / ratio) });
    return '';
  }
}
