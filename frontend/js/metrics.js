// The Metrics and ROC / PR tabs: GET /api/sessions/{id}/metrics (docs/protocol.md, "Looking
// inside"), polled about twice a second while one of the two tabs is on screen and only when
// something changed (a new frame), drawn with plotly.

import { classColor } from './colours.js';
import { formatFixed, formatPercent, plotSeparators, t } from './i18n.js';
import { pollView } from './poll.js';

const $ = (id) => document.getElementById(id);
const FONT = { family: '"Helvetica Neue", Helvetica, Arial, sans-serif', size: 11, color: '#555' };
const PLOT_CONFIG = { displayModeBar: false, responsive: true };
const PARTS = [
  ['train', () => t('app.metrics.partTrain')],
  ['validation', () => t('app.metrics.partValidation')],
  ['test', () => t('app.metrics.partTest')],
];

function Plotly() {
  return window.Plotly;
}

const pct = (v) => formatPercent(v, 1);
const num = (v, digits = 3) => formatFixed(v, digits);

/** A row of segment buttons (one chosen); `onPick(value)` when the user picks another. */
function segButtons(box, items, chosen, onPick) {
  const key = items.map(([v]) => v).join(',');
  if (box.dataset.key !== key) {
    box.dataset.key = key;
    box.replaceChildren(
      ...items.map(([value, label]) => {
        const b = document.createElement('button');
        b.type = 'button';
        b.className = 'seg-btn';
        b.dataset.value = value;
        b.setAttribute('role', 'radio');
        b.textContent = label();
        b.addEventListener('click', () => onPick(value));
        return b;
      }),
    );
  }
  for (const b of box.children) b.setAttribute('aria-checked', String(b.dataset.value === chosen));
}

export class MetricsView {
  /**
   * @param {{load: () => Promise<object|null>, changeKey: () => string, isShown: (tab: string) => boolean}} hooks
   *   load fetches the metrics (null without a session); changeKey changes whenever the model or
   *   the data may have changed (e.g. the newest frame's seq).
   */
  constructor(hooks) {
    this.hooks = hooks;
    this.part = 'test';
    this.normalized = false;
    this.metrics = null;
    this.fetchedKey = null;
    this.inflight = false;
    this.drawnKeys = {};
    this.errors = 0;
    this.timer = setInterval(() => this.poll(), 500);
    for (const b of $('metrics-norm').querySelectorAll('[data-value]')) {
      b.addEventListener('click', () => {
        this.normalized = b.dataset.value === 'normalized';
        this.render();
      });
    }
  }

  /** A tab of ours was just shown: draw what we have, fetch what is new now. */
  shown() {
    this.drawnKeys = {};
    this.render();
    this.poll();
  }

  /** The language changed: draw every label and number again. */
  relabel() {
    this.drawnKeys = {};
    $('metrics-part').dataset.key = '';
    $('curves-part').dataset.key = '';
    this.render();
  }

  /** Forget the old session's numbers (a new session or a re-initialised one). */
  reset() {
    this.metrics = null;
    this.fetchedKey = null;
    this.drawnKeys = {};
  }

  async poll() {
    const { isShown } = this.hooks;
    const m = await pollView(this, isShown('metrics') || isShown('curves'), (err) => {
      $('metrics-note').textContent = t('app.metrics.unavailable', { message: err.message });
      $('curves-note').textContent = t('app.metrics.unavailable', { message: err.message });
    });
    if (m) {
      this.metrics = m;
      this.render();
    }
  }


  /** Parts the server filled (validation only when held out). */
  parts() {
    const m = this.metrics;
    return PARTS.filter(([p]) => m && m[p]);
  }

  choosePart() {
    const parts = this.parts().map(([p]) => p);
    if (!parts.includes(this.part)) this.part = parts.includes('test') ? 'test' : parts[0] || 'test';
    return this.part;
  }

  render() {
    const m = this.metrics;
    if (!m) return;
    const part = this.choosePart();
    const pick = (p) => {
      this.part = p;
      this.render();
    };
    segButtons($('metrics-part'), this.parts(), part, pick);
    segButtons($('curves-part'), this.parts(), part, pick);
    const d = m[part];
    if (!d) return;
    if (this.hooks.isShown('metrics')) this.renderMetrics(m.problem, part, d);
    if (this.hooks.isShown('curves')) this.renderCurves(m.problem, part, d);
  }

  renderMetrics(problem, part, d) {
    const regression = problem === 'regression';
    $('metrics-norm').hidden = regression;
    $('metrics-confusion').hidden = regression;
    $('per-class').hidden = regression;
    $('pred-true').hidden = !regression;
    const cards = regression
      ? [
          ['mse', t('app.metric.mse'), num(d.mse, 4)],
          ['mae', t('app.metric.mae'), num(d.mae, 4)],
          ['r2', t('app.metric.r2'), num(d.r2, 3)],
          ['loss', t('app.metric.loss'), num(d.loss, 4)],
          ['count', t('app.metric.points'), d.count ?? '–'],
        ]
      : [
          ['accuracy', t('app.metric.accuracy'), pct(d.accuracy)],
          ['error_rate', t('app.metric.errorRate'), pct(d.error_rate)],
          ['loss', t('app.metric.loss'), num(d.loss, 4)],
          ['count', t('app.metric.points'), d.count ?? '–'],
        ];
    const box = $('metric-cards');
    box.replaceChildren(
      ...cards.map(([key, label, value]) => {
        const c = document.createElement('div');
        c.className = 'metric-card';
        c.dataset.metric = key;
        const v = document.createElement('b');
        v.textContent = String(value);
        const l = document.createElement('span');
        l.textContent = label;
        c.append(v, l);
        return c;
      }),
    );
    const partName = t(`app.metrics.partName.${part}`);
    $('metrics-note').textContent = regression
      ? t('app.metrics.noteRegression', { part: partName })
      : t('app.metrics.noteClassification', { part: partName });
    if (regression) this.drawPredTrue(d);
    else {
      this.drawConfusion(part, d);
      this.fillPerClass(d);
    }
  }

  drawConfusion(part, d) {
    const labels = d.labels || [];
    const matrix = this.normalized ? d.confusion_normalized : d.confusion;
    if (!matrix) return;
    const key = JSON.stringify([part, this.normalized, matrix]);
    if (this.drawnKeys.confusion === key) return;
    this.drawnKeys.confusion = key;
    const names = labels.map((l) => t('app.chart.classN', { k: String(l) }));
    const ticktext = labels.map((l) => `<span style="color:${classColor(l)}">■</span> ${l}`);
    const max = this.normalized ? 1 : Math.max(1, ...matrix.flat());
    const annotations = [];
    matrix.forEach((row, i) =>
      row.forEach((v, j) =>
        annotations.push({
          x: names[j],
          y: names[i],
          text: this.normalized ? formatPercent(v, labels.length > 4 ? 0 : 1) : String(v),
          showarrow: false,
          font: { size: labels.length > 4 ? 10 : 12, color: v / max > 0.55 ? '#fff' : '#222' },
        }),
      ),
    );
    const k = labels.length;
    const layout = {
      height: k > 4 ? 250 : 220,
      margin: { l: 52, r: 8, t: 8, b: 36 },
      font: FONT,
      separators: plotSeparators(),
      xaxis: { title: { text: t('app.chart.predicted'), font: { size: 10 }, standoff: 2 }, type: 'category', tickvals: names, ticktext },
      yaxis: {
        title: { text: t('app.chart.actual'), font: { size: 10 }, standoff: 2 },
        type: 'category',
        autorange: 'reversed',
        tickvals: names,
        ticktext,
      },
      annotations,
      paper_bgcolor: 'rgba(0,0,0,0)',
      plot_bgcolor: 'rgba(0,0,0,0)',
    };
    const trace = {
      type: 'heatmap',
      x: names,
      y: names,
      z: matrix,
      zmin: 0,
      zmax: max,
      colorscale: [
        [0, '#f7f9fa'],
        [1, '#0877bd'],
      ],
      showscale: false,
      xgap: 2,
      ygap: 2,
      hovertemplate: `${t('app.chart.actual')} %{y}, ${t('app.chart.predicted')} %{x}: ${this.normalized ? '%{z:.1%}' : '%{z}'}<extra></extra>`,
    };
    $('metrics-confusion').style.height = `${layout.height}px`;
    Plotly().react($('metrics-confusion'), [trace], layout, PLOT_CONFIG);
  }

  fillPerClass(d) {
    const rows = d.per_class || [];
    const labels = d.labels || rows.map((_, i) => i);
    const table = $('per-class');
    const key = JSON.stringify(rows);
    if (this.drawnKeys.perClass === key) return;
    this.drawnKeys.perClass = key;
    const head = document.createElement('tr');
    for (const h of ['class', 'precision', 'recall', 'specificity', 'f1', 'n']) {
      const th = document.createElement('th');
      th.dataset.key = h;
      th.textContent = t(`app.metric.${h}`);
      if (h === 'recall') th.title = t('app.metric.recallTitle');
      if (h === 'specificity') th.title = t('app.metric.specificityTitle');
      if (h === 'n') th.title = t('app.metric.nTitle');
      head.appendChild(th);
    }
    const body = rows.map((r, i) => {
      const tr = document.createElement('tr');
      tr.dataset.class = String(labels[i]);
      const name = document.createElement('td');
      const sw = document.createElement('i');
      sw.className = 'swatch';
      sw.style.background = classColor(labels[i]);
      const cname = this.classNames?.[labels[i]];
      name.append(sw, cname ? `${labels[i]} ${cname}` : String(labels[i]));
      tr.appendChild(name);
      for (const [k, v] of [
        ['precision', r.precision],
        ['recall', r.recall],
        ['specificity', r.specificity],
        ['f1', r.f1],
        ['support', r.support],
      ]) {
        const td = document.createElement('td');
        td.dataset.key = k;
        td.textContent = k === 'support' ? String(v ?? '–') : num(v, 3);
        tr.appendChild(td);
      }
      return tr;
    });
    // Macro average: every class counts the same.
    const avg = document.createElement('tr');
    avg.className = 'macro';
    const mean = (k) => (rows.length ? rows.reduce((a, r) => a + (r[k] ?? 0), 0) / rows.length : null);
    const cells = [t('app.metric.macroAvg'), num(mean('precision')), num(mean('recall')), num(mean('specificity')), num(mean('f1')), String(rows.reduce((a, r) => a + (r.support ?? 0), 0))];
    for (const text of cells) {
      const td = document.createElement('td');
      td.textContent = text;
      avg.appendChild(td);
    }
    table.replaceChildren(head, ...body, avg);
  }

  drawPredTrue(d) {
    const pv = d.predicted_vs_true || { true: [], predicted: [] };
    const key = JSON.stringify([pv.true.length, pv.true[0], pv.predicted[0], pv.predicted[pv.predicted.length - 1], d.mse]);
    if (this.drawnKeys.predTrue === key) return;
    this.drawnKeys.predTrue = key;
    const all = [...pv.true, ...pv.predicted].filter(Number.isFinite);
    let lo = all.length ? Math.min(...all) : -1;
    let hi = all.length ? Math.max(...all) : 1;
    const pad = (hi - lo) * 0.05 || 0.1;
    lo -= pad;
    hi += pad;
    const traces = [
      {
        type: 'scatter',
        mode: 'lines',
        name: t('app.metrics.identity'),
        x: [lo, hi],
        y: [lo, hi],
        line: { color: '#999', dash: 'dash', width: 1 },
        hoverinfo: 'skip',
      },
      {
        type: 'scatter',
        mode: 'markers',
        name: t('app.metrics.points'),
        x: pv.true,
        y: pv.predicted,
        marker: { size: 5, color: '#0877bd', opacity: 0.6 },
        hovertemplate: `${t('app.chart.actual')} %{x:.3f}<br>${t('app.chart.predicted')} %{y:.3f}<extra></extra>`,
      },
    ];
    const layout = {
      height: 300,
      margin: { l: 46, r: 8, t: 8, b: 38 },
      font: FONT,
      separators: plotSeparators(),
      showlegend: false,
      xaxis: { title: { text: t('app.chart.actual'), font: { size: 10 } }, range: [lo, hi], zeroline: false, gridcolor: '#eee' },
      yaxis: { title: { text: t('app.chart.predicted'), font: { size: 10 } }, range: [lo, hi], zeroline: false, gridcolor: '#eee', scaleanchor: 'x' },
      paper_bgcolor: 'rgba(0,0,0,0)',
      plot_bgcolor: 'rgba(0,0,0,0)',
    };
    Plotly().react($('pred-true'), traces, layout, PLOT_CONFIG);
  }

  renderCurves(problem, part, d) {
    const regression = problem === 'regression';
    $('roc-chart').hidden = regression;
    $('pr-chart').hidden = regression;
    if (regression) {
      $('curves-note').textContent = t('app.metrics.curvesRegression');
      return;
    }
    const curves = d.curves || [];
    const key = JSON.stringify([part, curves.map((c) => [c.class, c.roc?.auc, c.pr?.average_precision, c.roc?.fpr?.length])]);
    if (this.drawnKeys.curves === key) return;
    this.drawnKeys.curves = key;
    const labels = d.labels || [];
    const binary = labels.length <= 2;
    const name = (c) => t(binary ? 'app.chart.classN' : 'app.metrics.classVsRest', { k: String(c.class) });
    const roc = curves.map((c) => ({
      type: 'scatter',
      mode: 'lines',
      name: `${name(c)} · AUC ${num(c.roc?.auc, 3)}`,
      x: c.roc?.fpr || [],
      y: c.roc?.tpr || [],
      line: { color: classColor(c.class), width: 2, shape: 'hv' },
      hovertemplate: `${name(c)}<br>${t('app.metric.falsePositiveRate')} %{x:.3f}<br>${t('app.metric.truePositiveRateShort')} %{y:.3f}<extra></extra>`,
    }));
    roc.unshift({
      type: 'scatter',
      mode: 'lines',
      name: t('app.metrics.chance'),
      x: [0, 1],
      y: [0, 1],
      line: { color: '#bbb', dash: 'dash', width: 1 },
      hoverinfo: 'skip',
      showlegend: false,
    });
    const pr = curves.map((c) => ({
      type: 'scatter',
      mode: 'lines',
      name: `${name(c)} · AP ${num(c.pr?.average_precision, 3)}`,
      x: c.pr?.recall || [],
      y: c.pr?.precision || [],
      line: { color: classColor(c.class), width: 2 },
      hovertemplate: `${name(c)}<br>${t('app.metric.recall')} %{x:.3f}<br>${t('app.metric.precision')} %{y:.3f}<extra></extra>`,
    }));
    const layout = (x, y, title) => ({
      height: 270,
      margin: { l: 44, r: 8, t: 24, b: 36 },
      font: FONT,
      separators: plotSeparators(),
      title: { text: title, font: { size: 12, color: '#333' }, x: 0.02, xanchor: 'left' },
      xaxis: { title: { text: x, font: { size: 10 }, standoff: 2 }, range: [-0.01, 1.01], gridcolor: '#eee', zeroline: false, fixedrange: true },
      yaxis: { title: { text: y, font: { size: 10 }, standoff: 2 }, range: [-0.01, 1.02], gridcolor: '#eee', zeroline: false, fixedrange: true },
      legend: { x: 0.99, xanchor: 'right', y: 0.02, yanchor: 'bottom', bgcolor: 'rgba(255,255,255,0.8)', font: { size: 10 } },
      showlegend: true,
      paper_bgcolor: 'rgba(0,0,0,0)',
      plot_bgcolor: 'rgba(0,0,0,0)',
    });
    const partName = t(`app.metrics.partName.${part}`);
    const prLayout = layout(t('app.metric.recall'), t('app.metric.precision'), t('app.metrics.prTitle', { part: partName }));
    prLayout.legend = { ...prLayout.legend, x: 0.02, xanchor: 'left' };
    const rocLayout = layout(t('app.metric.falsePositiveRate'), t('app.metric.truePositiveRate'), t('app.metrics.rocTitle', { part: partName }));
    Plotly().react($('roc-chart'), roc, rocLayout, PLOT_CONFIG);
    Plotly().react($('pr-chart'), pr, prLayout, PLOT_CONFIG);
    const aucs = curves.map((c) => `${binary ? '' : `${t('app.chart.classN', { k: String(c.class) })} `}AUC ${num(c.roc?.auc, 3)}`).join(' · ');
    $('curves-note').textContent = binary ? t('app.metrics.binaryNote', { aucs }) : t('app.metrics.oneVsRest', { aucs });
  }
}
