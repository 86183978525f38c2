// Charts' decision heatmap: the model's output over the plane (two-class / regression grid, or
// the K-class image), the data points on top, the plane's axes and the legend. Mixed into Charts.

import { DIVERGING, MIDDLE_RGB, PALETTE_RGB, classColor } from './colours.js';
import { formatFixed, formatNumber, t } from './i18n.js';
import { Plotly, PLOT_CONFIG } from './plotstyle.js';

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

export const decisionHeatmap = {
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
  },

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
  },

  range() {
    if (this.grid) return this.grid.range;
    return this.problem === 'classification' ? [0, 1] : [-1, 1];
  },

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
  },

  /** The plane's range: the newest grid's extent (data of d > 2 columns has its own). */
  extent() {
    return (this.grid || this.classGrid)?.extent || this.planeExtent || [-6, 6];
  },

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
  },

  /** Names of the plane's axes (data columns or principal components), or null for x₁ / x₂. */
  setAxisTitles(titles) {
    const next = titles && titles.length === 2 ? titles : null;
    if (JSON.stringify(next) === JSON.stringify(this.axisTitles ?? null)) return;
    this.axisTitles = next;
    const margin = { ...this.heatmapLayout.margin, l: next ? 40 : 28, b: next ? 36 : 24 };
    this.heatmapLayout = { ...this.heatmapLayout, margin };
    this.drawHeatmap();
  },

  drawHeatmap() {
    const layout = { ...this.heatmapLayout, ...this.planeLayout(), images: this.heatmapImages() };
    this.drawnExtent = JSON.stringify(this.extent());
    Plotly().react(this.els.heatmap, this.heatmapTraces(), layout, PLOT_CONFIG);
    this.drawn.heatmap = Boolean(this.grid || this.classGrid);
    this.els.heatmap.dataset.classes = String(this.classGrid ? this.classGrid.classes : 2);
    this.drawLegend();
  },

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
  },

  /** A frame's grid: the K-class probabilities or the two-class / regression values. */
  renderGrid(header, arrays) {
    const P = Plotly();
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
  },
};
