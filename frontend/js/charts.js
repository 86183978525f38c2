// Plotly views of a session: decision heatmap with data points, loss chart, confusion matrices.
// plotly.js is loaded by a classic <script> (window.Plotly), served by the app at /vendor/.

import { formatFixed, formatNumber, formatPercent, plotSeparators, t } from './i18n.js';

export const ORANGE = '#f59322'; // class 0 / negative
export const BLUE = '#0877bd'; // class 1 / positive
const MIDDLE = '#e8eaeb';
/** TF Playground's diverging scale: orange (low) through light grey to blue (high). */
export const DIVERGING = [
  [0, ORANGE],
  [0.5, MIDDLE],
  [1, BLUE],
];

/** Class colours: orange and blue as TF Playground for two classes, then four more, distinct. */
export const PALETTE = [ORANGE, BLUE, '#2ca25f', '#8856a7', '#e7298a', '#8c6d31'];

/** The colour of class `k`. */
export function classColor(k) {
  return PALETTE[((Math.round(k) % PALETTE.length) + PALETTE.length) % PALETTE.length];
}

function rgbOf(hex) {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}
const PALETTE_RGB = PALETTE.map(rgbOf);
const MIDDLE_RGB = rgbOf(MIDDLE);

const FONT = { family: '"Helvetica Neue", Helvetica, Arial, sans-serif', size: 11, color: '#555' };
const PLOT_CONFIG = { displayModeBar: false, responsive: true };

function Plotly() {
  if (!window.Plotly) throw new Error('plotly.js did not load (/vendor/plotly.min.js)');
  return window.Plotly;
}

/** A frame's grid.extent as [[xlo, xhi], [ylo, yhi]]: [lo, hi] for both axes, or one per axis. */
export function axesOf(extent) {
  const e = extent || [-6, 6];
  if (Array.isArray(e[0])) return [e[0], e[1] || e[0]];
  return [e, e];
}

/** About five round tick values over [lo, hi]. */
function ticks(lo, hi) {
  if (lo === -6 && hi === 6) return [-6, -3, 0, 3, 6];
  const span = hi - lo;
  if (!(span > 0)) return undefined;
  const raw = span / 4;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((st) => st >= raw) || raw;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) out.push(Number(v.toPrecision(10)));
  return out;
}

function linspace(lo, hi, n) {
  if (n < 2) return [lo];
  return Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
}

/** Split a dataset part {x: [[x1, x2]...], y: [...]} into plotly-ready columns. */
function columns(part) {
  const xs = [];
  const ys = [];
  for (const p of part?.x || []) {
    xs.push(p[0]);
    ys.push(p[1]);
  }
  return { xs, ys, labels: part?.y || [] };
}

function pointsTrace(part, { problem, range, test, names = null }) {
  const { xs, ys, labels } = columns(part);
  const classification = problem === 'classification';
  return {
    type: 'scatter',
    mode: 'markers',
    name: test ? t('app.chart.test') : t('app.chart.train'),
    x: xs,
    y: ys,
    hoverinfo: 'x+y+text',
    text: labels.map((v) =>
      classification
        ? `${t('app.chart.classN', { k: String(v) })}${names?.[v] ? ` (${names[v]})` : ''}`
        : t('app.chart.value', { value: formatFixed(v, 3) }),
    ),
    marker: {
      size: 6,
      color: classification ? labels.map((v) => classColor(v)) : labels,
      colorscale: classification ? undefined : DIVERGING,
      cmin: classification ? undefined : range[0],
      cmax: classification ? undefined : range[1],
      // Test points get a dark ring; regression's pale mid-range points a faint one.
      line: { width: 1, color: test ? '#111' : classification ? '#fff' : 'rgba(0,0,0,0.3)' },
    },
  };
}

/** Every view of one session; `render(frame)` draws the newest frame. */
export class Charts {
  /** @param {{heatmap: HTMLElement, loss: HTMLElement, confusionTrain: HTMLElement, confusionTest: HTMLElement, legend?: HTMLElement}} els */
  constructor(els) {
    this.els = els;
    this.problem = 'classification';
    this.dataset = null;
    this.showTest = false;
    this.discretize = false;
    this.grid = null; // {z, resolution, range} for 2 classes or regression
    this.classGrid = null; // {probs: Uint8Array (K·R·R), classes: K, resolution, extent} for K > 2
    this.classes = 2;
    this.historyKey = '';
    this.confusionKey = { train: '', test: '' };
    this.drawn = { heatmap: false, loss: false };
    this.heatmapVisible = true; // false while another output tab hides it: frames skip drawing it
    this.initPlots();
  }

  /** The Boundary tab was hidden or shown again: catch up with the newest grid then. */
  setHeatmapVisible(visible) {
    const was = this.heatmapVisible;
    this.heatmapVisible = Boolean(visible);
    if (this.heatmapVisible && !was) {
      const P = Plotly();
      this.drawHeatmap();
      for (const el of [this.els.heatmap, this.els.confusionTrain, this.els.confusionTest]) {
        if (el && el.data) P.Plots.resize(el);
      }
    }
  }

  initPlots() {
    const P = Plotly();
    this.heatmapLayout = {
      margin: { l: 28, r: 8, t: 8, b: 24 },
      font: FONT,
      xaxis: { range: [-6, 6], zeroline: false, showgrid: false, tickvals: [-6, -3, 0, 3, 6], fixedrange: true },
      yaxis: {
        range: [-6, 6],
        zeroline: false,
        showgrid: false,
        tickvals: [-6, -3, 0, 3, 6],
        scaleanchor: 'x',
        scaleratio: 1,
        fixedrange: true,
      },
      showlegend: false,
      plot_bgcolor: '#fff',
      paper_bgcolor: 'rgba(0,0,0,0)',
      uirevision: 'heatmap',
      separators: plotSeparators(),
    };
    P.newPlot(this.els.heatmap, this.heatmapTraces(), this.heatmapLayout, PLOT_CONFIG);

    this.lossLayout = {
      margin: { l: 40, r: 8, t: 6, b: 26 },
      font: FONT,
      height: 120,
      xaxis: { zeroline: false, showgrid: false, fixedrange: true, nticks: 5 },
      yaxis: { rangemode: 'tozero', zeroline: false, gridcolor: '#eee', fixedrange: true, nticks: 4 },
      showlegend: true,
      legend: { orientation: 'h', x: 1, xanchor: 'right', y: 1.08, yanchor: 'bottom', font: { size: 10 } },
      paper_bgcolor: 'rgba(0,0,0,0)',
      plot_bgcolor: 'rgba(0,0,0,0)',
      uirevision: 'loss',
      separators: plotSeparators(),
    };
    P.newPlot(this.els.loss, this.lossTraces([], [], []), this.lossLayout, PLOT_CONFIG);

    for (const which of ['train', 'test']) {
      P.newPlot(this.confusionEl(which), [], this.confusionLayout(which, null), { ...PLOT_CONFIG, staticPlot: true });
    }
  }

  confusionEl(which) {
    return which === 'train' ? this.els.confusionTrain : this.els.confusionTest;
  }

  /** The language changed: titles, trace names and number separators are drawn again. */
  relabel() {
    this.heatmapLayout = { ...this.heatmapLayout, separators: plotSeparators() };
    this.lossLayout = { ...this.lossLayout, separators: plotSeparators() };
    this.historyKey = '';
    this.confusionKey = { train: '', test: '' };
    if (this.els.legendClasses) this.els.legendClasses.dataset.k = '';
    this.drawHeatmap();
    if (this.lastFrame) this.render(this.lastFrame);
    else {
      this.drawConfusion('train', null, []);
      this.drawConfusion('test', null, []);
    }
  }

  /** A new problem type or data set: redraw the points, forget the old grid. */
  setDataset(dataset, problem) {
    this.dataset = dataset;
    this.problem = problem;
    this.drawHeatmap();
  }

  setProblem(problem) {
    if (problem === this.problem) return;
    this.problem = problem;
    this.grid = null;
    this.drawHeatmap();
  }

  setShowTest(show) {
    this.showTest = Boolean(show);
    this.drawHeatmap();
  }

  setDiscretize(on) {
    this.discretize = Boolean(on);
    this.drawHeatmap();
  }

  /** Empty the loss chart and confusion matrices (the session was re-initialised). */
  clearHistory() {
    this.historyKey = '';
    Plotly().react(this.els.loss, this.lossTraces([], [], []), { ...this.lossLayout, shapes: [], annotations: [] }, PLOT_CONFIG);
  }

  /** Number of classes shown (2 for two classes and regression). */
  setClasses(k) {
    const classes = Math.max(2, k || 2);
    if (classes === this.classes) return;
    this.classes = classes;
    if (classes <= 2) this.classGrid = null;
    else this.grid = null;
    this.drawHeatmap();
  }

  /**
   * A K-class probability grid as an image: each pixel blends the class colours weighted by
   * probability, faded towards grey where no class is sure (as the two-class map is grey at 0.5).
   */
  classImage() {
    const { probs, classes: k, resolution: n } = this.classGrid;
    const small = this.smallCanvas || (this.smallCanvas = document.createElement('canvas'));
    if (small.width !== n) {
      small.width = n;
      small.height = n;
    }
    const ctx = small.getContext('2d');
    const img = ctx.createImageData(n, n);
    const plane = n * n;
    const uniform = 1 / k;
    for (let r = 0; r < n; r += 1) {
      // Canvas row 0 is the top: the grid's last row (y = +6).
      const out = (n - 1 - r) * n;
      for (let c = 0; c < n; c += 1) {
        const cell = r * n + c;
        let red = 0;
        let green = 0;
        let blue = 0;
        let total = 0;
        let best = 0;
        let bestK = 0;
        for (let j = 0; j < k; j += 1) {
          const p = probs[j * plane + cell];
          total += p;
          if (p > best) {
            best = p;
            bestK = j;
          }
          const rgb = PALETTE_RGB[j % PALETTE_RGB.length];
          red += p * rgb[0];
          green += p * rgb[1];
          blue += p * rgb[2];
        }
        let rgb;
        let sure;
        if (this.discretize || total === 0) {
          rgb = PALETTE_RGB[bestK % PALETTE_RGB.length];
          sure = 1;
        } else {
          rgb = [red / total, green / total, blue / total];
          sure = Math.max(0, Math.min(1, (best / total - uniform) / (1 - uniform)));
          sure = Math.sqrt(sure);
        }
        const i = (out + c) * 4;
        img.data[i] = MIDDLE_RGB[0] + (rgb[0] - MIDDLE_RGB[0]) * sure;
        img.data[i + 1] = MIDDLE_RGB[1] + (rgb[1] - MIDDLE_RGB[1]) * sure;
        img.data[i + 2] = MIDDLE_RGB[2] + (rgb[2] - MIDDLE_RGB[2]) * sure;
        img.data[i + 3] = 255;
      }
    }
    ctx.putImageData(img, 0, 0);
    // Scale up with the browser's smoothing, as zsmooth does for the two-class heatmap.
    const big = this.bigCanvas || (this.bigCanvas = document.createElement('canvas'));
    const size = this.discretize ? n : Math.max(n, 240);
    if (big.width !== size) {
      big.width = size;
      big.height = size;
    }
    const bctx = big.getContext('2d');
    bctx.imageSmoothingEnabled = !this.discretize;
    bctx.drawImage(small, 0, 0, size, size);
    return big.toDataURL('image/png');
  }

  /** layout.images for the K-class map (none for two classes). */
  heatmapImages() {
    if (!this.classGrid) return [];
    const [[lo, hi], [ylo, yhi]] = axesOf(this.classGrid.extent);
    return [
      {
        source: this.classImage(),
        xref: 'x',
        yref: 'y',
        x: lo,
        y: yhi,
        sizex: hi - lo,
        sizey: yhi - ylo,
        xanchor: 'left',
        yanchor: 'top',
        sizing: 'stretch',
        layer: 'below',
        opacity: 0.7,
      },
    ];
  }

  range() {
    if (this.grid) return this.grid.range;
    return this.problem === 'classification' ? [0, 1] : [-1, 1];
  }

  heatmapTraces() {
    const traces = [];
    const range = this.range();
    if (this.grid) {
      const { resolution, extent } = this.grid;
      const [xr, yr] = axesOf(extent);
      const xAxis = linspace(xr[0], xr[1], resolution);
      const yAxis = linspace(yr[0], yr[1], resolution);
      let z = this.grid.z;
      if (this.discretize) {
        const mid = (range[0] + range[1]) / 2;
        z = z.map((row) => row.map((v) => (v >= mid ? range[1] : range[0])));
      }
      traces.push({
        type: 'heatmap',
        x: xAxis,
        y: yAxis,
        z,
        zmin: range[0],
        zmax: range[1],
        colorscale: DIVERGING,
        showscale: false,
        opacity: 0.7,
        zsmooth: this.discretize ? false : 'best',
        hoverinfo: 'skip',
      });
    } else {
      // Keep trace 0 a heatmap so later updates replace it in place.
      traces.push({ type: 'heatmap', z: [[]], showscale: false, hoverinfo: 'skip' });
    }
    if (this.dataset) {
      const names = this.dataset.class_names || null;
      traces.push(pointsTrace(this.dataset.train, { problem: this.problem, range, test: false, names }));
      if (this.showTest) traces.push(pointsTrace(this.dataset.test, { problem: this.problem, range, test: true, names }));
    }
    return traces;
  }

  /** The plane's range: the newest grid's extent (data of d > 2 columns has its own). */
  extent() {
    return (this.grid || this.classGrid)?.extent || this.planeExtent || [-6, 6];
  }

  /** Axes that follow the plane's extent (square when both axes span the same). */
  planeLayout() {
    const [xr, yr] = axesOf(this.extent());
    const square = Math.abs(xr[1] - xr[0] - (yr[1] - yr[0])) < 1e-9;
    const yaxis = { ...this.heatmapLayout.yaxis, range: yr, tickvals: ticks(yr[0], yr[1]) };
    if (!square) {
      delete yaxis.scaleanchor;
      delete yaxis.scaleratio;
    }
    const xaxis = { ...this.heatmapLayout.xaxis, range: xr, tickvals: ticks(xr[0], xr[1]) };
    if (this.axisTitles) {
      xaxis.title = { text: this.axisTitles[0], font: { size: 10 }, standoff: 2 };
      yaxis.title = { text: this.axisTitles[1], font: { size: 10 }, standoff: 2 };
    }
    return { xaxis, yaxis };
  }

  /** Names of the plane's axes (data columns or principal components), or null for x₁ / x₂. */
  setAxisTitles(titles) {
    const next = titles && titles.length === 2 ? titles : null;
    if (JSON.stringify(next) === JSON.stringify(this.axisTitles ?? null)) return;
    this.axisTitles = next;
    const margin = { ...this.heatmapLayout.margin, l: next ? 40 : 28, b: next ? 36 : 24 };
    this.heatmapLayout = { ...this.heatmapLayout, margin };
    this.drawHeatmap();
  }

  drawHeatmap() {
    const layout = { ...this.heatmapLayout, ...this.planeLayout(), images: this.heatmapImages() };
    this.drawnExtent = JSON.stringify(this.extent());
    Plotly().react(this.els.heatmap, this.heatmapTraces(), layout, PLOT_CONFIG);
    this.drawn.heatmap = Boolean(this.grid || this.classGrid);
    this.els.heatmap.dataset.classes = String(this.classGrid ? this.classGrid.classes : 2);
    this.drawLegend();
  }

  drawLegend() {
    const el = this.els.legend;
    if (!el) return;
    const classesEl = this.els.legendClasses;
    const multi = this.problem === 'classification' && this.classes > 2;
    el.hidden = multi;
    if (classesEl) {
      classesEl.hidden = !multi;
      const names = this.dataset?.class_names || null;
      const key = `${this.classes}:${names ? names.join('|') : ''}`;
      if (multi && classesEl.dataset.k !== key) {
        classesEl.dataset.k = key;
        classesEl.replaceChildren(
          ...Array.from({ length: this.classes }, (_, k) => {
            const item = document.createElement('span');
            item.className = 'legend-class';
            const sw = document.createElement('i');
            sw.style.background = classColor(k);
            item.append(sw, names?.[k] ? `${k} ${names[k]}` : t('app.chart.classN', { k: String(k) }));
            return item;
          }),
        );
      }
    }
    const [lo, hi] = this.range();
    const fmt = (v) => (Math.abs(v) >= 100 ? formatFixed(v, 0) : formatNumber(Number(v.toPrecision(2)), { maximumFractionDigits: 6 }));
    el.querySelector('.legend-lo').textContent = fmt(lo);
    el.querySelector('.legend-mid').textContent = fmt((lo + hi) / 2);
    el.querySelector('.legend-hi').textContent = fmt(hi);
  }

  lossTraces(epochs, train, test, validation = null) {
    const traces = [
      {
        type: 'scatter',
        mode: 'lines',
        name: t('app.chart.train'),
        x: epochs,
        y: train,
        line: { color: '#222', width: 1.5 },
        hovertemplate: `${t('app.chart.epoch')} %{x}<br>${t('app.chart.trainLoss')} %{y:.4f}<extra></extra>`,
      },
      {
        type: 'scatter',
        mode: 'lines',
        name: t('app.chart.test'),
        x: epochs,
        y: test,
        line: { color: '#9aa0a6', width: 1.5 },
        hovertemplate: `${t('app.chart.epoch')} %{x}<br>${t('app.chart.testLoss')} %{y:.4f}<extra></extra>`,
      },
    ];
    if (validation) {
      traces.push({
        type: 'scatter',
        mode: 'lines',
        name: t('app.chart.validation'),
        x: epochs,
        y: validation,
        line: { color: ORANGE, width: 1.5 },
        hovertemplate: `${t('app.chart.epoch')} %{x}<br>${t('app.chart.validationLoss')} %{y:.4f}<extra></extra>`,
      });
    }
    return traces;
  }

  /** The loss chart's layout, with the epoch of the lowest validation loss marked. */
  lossLayoutFor(bestEpoch, maxLoss) {
    if (bestEpoch == null) return { ...this.lossLayout, shapes: [], annotations: [] };
    return {
      ...this.lossLayout,
      shapes: [
        {
          type: 'line',
          xref: 'x',
          yref: 'paper',
          x0: bestEpoch,
          x1: bestEpoch,
          y0: 0,
          y1: 1,
          line: { color: ORANGE, width: 1, dash: 'dot' },
        },
      ],
      annotations: [
        {
          x: bestEpoch,
          y: 1,
          xref: 'x',
          yref: 'paper',
          text: t('app.chart.best', { epoch: String(bestEpoch) }),
          showarrow: false,
          xanchor: 'left',
          yanchor: 'top',
          font: { size: 9, color: '#b5651d' },
        },
      ],
      meta: { bestEpoch, maxLoss },
    };
  }

  confusionLayout(which, accuracy) {
    const title = which === 'train' ? t('app.chart.trainTitle') : t('app.chart.testTitle');
    const acc = accuracy == null ? '' : ` · ${t('app.metric.accuracy').toLowerCase()} ${formatPercent(accuracy, 1)}`;
    return {
      margin: { l: 44, r: 6, t: 22, b: 30 },
      height: 150,
      font: FONT,
      separators: plotSeparators(),
      title: { text: `${title}${acc}`, font: { size: 11, color: '#333' }, x: 0.02, xanchor: 'left', y: 0.97 },
      xaxis: { title: { text: t('app.chart.predicted'), font: { size: 10 }, standoff: 2 }, type: 'category', side: 'bottom' },
      yaxis: { title: { text: t('app.chart.actual'), font: { size: 10 }, standoff: 2 }, type: 'category', autorange: 'reversed' },
      paper_bgcolor: 'rgba(0,0,0,0)',
      plot_bgcolor: 'rgba(0,0,0,0)',
      annotations: [],
    };
  }

  drawConfusion(which, matrix, labels) {
    const el = this.confusionEl(which);
    const key = matrix ? JSON.stringify(matrix) : 'none';
    if (key === this.confusionKey[which]) return;
    this.confusionKey[which] = key;
    if (!matrix) {
      Plotly().react(el, [], this.confusionLayout(which, null), { ...PLOT_CONFIG, staticPlot: true });
      return;
    }
    const k = labels.length;
    const names = labels.map((l) => t('app.chart.classN', { k: String(l) }));
    const total = matrix.flat().reduce((a, b) => a + b, 0);
    const correct = matrix.reduce((a, row, i) => a + (row[i] || 0), 0);
    const accuracy = total ? correct / total : null;
    const max = Math.max(1, ...matrix.flat());
    const layout = this.confusionLayout(which, accuracy);
    if (k > 2) {
      // Short, coloured class labels so K×K fits.
      const ticktext = labels.map((l) => `<span style="color:${classColor(l)}">■</span> ${l}`);
      layout.xaxis = { ...layout.xaxis, tickvals: names, ticktext };
      layout.yaxis = { ...layout.yaxis, tickvals: names, ticktext };
      layout.margin = { ...layout.margin, l: 40 };
      layout.height = k > 4 ? 210 : 180;
    }
    el.style.height = `${layout.height}px`;
    const size = k <= 2 ? 13 : k <= 4 ? 11 : 9;
    layout.annotations = [];
    matrix.forEach((row, i) =>
      row.forEach((n, j) =>
        layout.annotations.push({
          x: names[j],
          y: names[i],
          text: String(n),
          showarrow: false,
          font: { size, color: n / max > 0.55 ? '#fff' : '#222' },
        }),
      ),
    );
    const trace = {
      type: 'heatmap',
      x: names,
      y: names,
      z: matrix,
      zmin: 0,
      zmax: max,
      colorscale: [
        [0, '#f7f9fa'],
        [1, which === 'train' ? '#0877bd' : '#3d6f91'],
      ],
      showscale: false,
      xgap: 2,
      ygap: 2,
      hoverinfo: 'skip',
    };
    Plotly().react(el, [trace], layout, { ...PLOT_CONFIG, staticPlot: true });
  }

  /** Draw one decoded frame ({header, arrays}). */
  render(frame) {
    this.lastFrame = frame;
    const { header, arrays } = frame;
    const P = Plotly();
    if (header.grid && arrays.grid) {
      const resolution = header.grid.resolution;
      const extent = header.grid.extent || [-6, 6];
      const classes = header.grid.classes || 0;
      if (classes > 2) {
        // (K, R, R) class probabilities, quantised to 0..255.
        if (this.classes !== classes) {
          this.classes = classes;
          this.grid = null;
        }
        this.classGrid = { probs: arrays.grid, classes, resolution, extent };
        if (!this.heatmapVisible) this.drawn.heatmap = false;
        else if (!this.drawn.heatmap || this.drawnClasses !== classes || this.drawnExtent !== JSON.stringify(extent)) {
          this.drawnClasses = classes;
          this.drawHeatmap();
        } else P.relayout(this.els.heatmap, { images: this.heatmapImages() });
      } else {
        if (this.classGrid) {
          this.classGrid = null;
          this.classes = 2;
          this.drawn.heatmap = false;
        }
        this.drawnClasses = 2;
        const range = header.grid.value_range || [0, 1];
        const q = arrays.grid;
        const scale = (range[1] - range[0]) / 255;
        const z = new Array(resolution);
        for (let r = 0; r < resolution; r += 1) {
          const row = new Array(resolution);
          const base = r * resolution;
          for (let c = 0; c < resolution; c += 1) row[c] = range[0] + q[base + c] * scale;
          z[r] = row;
        }
        const rangeChanged = !this.grid || this.grid.range[0] !== range[0] || this.grid.range[1] !== range[1];
        this.grid = { z, resolution, range, extent };
        // The points' colours depend on the range for regression: redraw all then.
        if (!this.heatmapVisible) this.drawn.heatmap = false;
        else if (rangeChanged || !this.drawn.heatmap || this.drawnExtent !== JSON.stringify(extent)) this.drawHeatmap();
        else {
          const t = this.heatmapTraces()[0];
          P.restyle(this.els.heatmap, { z: [t.z], x: [t.x], y: [t.y], zsmooth: [t.zsmooth] }, [0]);
        }
      }
    }
    if (header.history && arrays.history) {
      const rows = header.history.rows || ['epoch', 'train_loss', 'test_loss'];
      const n = header.history.length ?? arrays.history.length / rows.length;
      const h = arrays.history;
      const row = (name) => {
        const i = rows.indexOf(name);
        return i < 0 ? null : Array.from(h.subarray(i * n, (i + 1) * n));
      };
      const best = header.state?.best_epoch ?? null;
      const key = `${rows.length}:${n}:${h[n - 1]}:${h[2 * n - 1]}:${h[h.length - 1]}:${best}`;
      if (key !== this.historyKey) {
        this.historyKey = key;
        const validation = row('validation_loss');
        const traces = this.lossTraces(row('epoch') || [], row('train_loss') || [], row('test_loss') || [], validation);
        const layout = this.lossLayoutFor(validation && best != null && n > 0 ? best : null);
        P.react(this.els.loss, traces, layout, PLOT_CONFIG);
        this.drawn.loss = n > 0;
      }
    }
    const conf = header.confusion;
    this.drawConfusion('train', conf ? conf.train : null, conf ? conf.labels : []);
    this.drawConfusion('test', conf ? conf.test : null, conf ? conf.labels : []);
  }

  /** The learning-rate range test: loss against rate (log axis), the suggestion marked. */
  drawLrFinder(el, result) {
    const { learning_rates: lrs = [], losses = [], suggested = null } = result || {};
    const traces = [
      {
        type: 'scatter',
        mode: 'lines',
        name: t('app.chart.loss'),
        x: lrs,
        y: losses,
        line: { color: '#222', width: 1.5 },
        hovertemplate: `${t('app.chart.rate')} %{x:.2e}<br>${t('app.chart.loss')} %{y:.4f}<extra></extra>`,
      },
    ];
    const shapes = [];
    if (suggested != null && lrs.length) {
      // The loss at the suggestion: the nearest rate tried.
      let j = 0;
      for (let i = 1; i < lrs.length; i += 1) {
        if (Math.abs(Math.log(lrs[i] / suggested)) < Math.abs(Math.log(lrs[j] / suggested))) j = i;
      }
      traces.push({
        type: 'scatter',
        mode: 'markers',
        name: t('app.chart.suggested'),
        x: [suggested],
        y: [losses[j]],
        marker: { color: ORANGE, size: 9, line: { color: '#fff', width: 1 } },
        hovertemplate: `${t('app.chart.suggested')} %{x:.2e}<extra></extra>`,
      });
      shapes.push({
        type: 'line',
        xref: 'x',
        yref: 'paper',
        x0: suggested,
        x1: suggested,
        y0: 0,
        y1: 1,
        line: { color: ORANGE, width: 1, dash: 'dot' },
      });
    }
    // Focus on the useful part: from the lowest loss to a little above where the sweep began.
    const finite = losses.filter(Number.isFinite);
    let yrange;
    if (finite.length > 1) {
      const lo = Math.min(...finite);
      const hi = Math.min(Math.max(...finite), Math.max(finite[0] * 1.4, lo * 1.6));
      const pad = (hi - lo) * 0.08 || lo * 0.1 || 0.1;
      yrange = [lo - pad, hi + pad];
    }
    const layout = {
      margin: { l: 38, r: 6, t: 6, b: 30 },
      height: 150,
      font: FONT,
      separators: plotSeparators(),
      showlegend: false,
      xaxis: {
        type: 'log',
        title: { text: t('app.chart.learningRate'), font: { size: 10 }, standoff: 2 },
        exponentformat: 'power',
        dtick: 2,
        fixedrange: true,
        gridcolor: '#eee',
      },
      yaxis: {
        title: { text: t('app.chart.loss'), font: { size: 10 }, standoff: 2 },
        fixedrange: true,
        gridcolor: '#eee',
        nticks: 4,
        range: yrange,
        autorange: yrange ? false : true,
      },
      shapes,
      paper_bgcolor: 'rgba(0,0,0,0)',
      plot_bgcolor: 'rgba(0,0,0,0)',
    };
    Plotly().react(el, traces, layout, PLOT_CONFIG);
  }
}
