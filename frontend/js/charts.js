// Plotly views of a session: decision heatmap with data points, loss chart, confusion matrices.
// plotly.js is loaded by a classic <script> (window.Plotly), served by the app at /vendor/.

export const ORANGE = '#f59322'; // class 0 / negative
export const BLUE = '#0877bd'; // class 1 / positive
const MIDDLE = '#e8eaeb';
/** TF Playground's diverging scale: orange (low) through light grey to blue (high). */
export const DIVERGING = [
  [0, ORANGE],
  [0.5, MIDDLE],
  [1, BLUE],
];

const FONT = { family: '"Helvetica Neue", Helvetica, Arial, sans-serif', size: 11, color: '#555' };
const PLOT_CONFIG = { displayModeBar: false, responsive: true };

function Plotly() {
  if (!window.Plotly) throw new Error('plotly.js did not load (/vendor/plotly.min.js)');
  return window.Plotly;
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

function pointsTrace(part, { problem, range, test }) {
  const { xs, ys, labels } = columns(part);
  const classification = problem === 'classification';
  return {
    type: 'scatter',
    mode: 'markers',
    name: test ? 'test' : 'train',
    x: xs,
    y: ys,
    hoverinfo: 'x+y+text',
    text: labels.map((v) => (classification ? `class ${v}` : `value ${Number(v).toFixed(3)}`)),
    marker: {
      size: 6,
      color: classification ? labels.map((v) => (v >= 0.5 ? BLUE : ORANGE)) : labels,
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
    this.grid = null; // {z, resolution, range}
    this.historyKey = '';
    this.confusionKey = { train: '', test: '' };
    this.drawn = { heatmap: false, loss: false };
    this.initPlots();
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
    };
    P.newPlot(this.els.loss, this.lossTraces([], [], []), this.lossLayout, PLOT_CONFIG);

    for (const which of ['train', 'test']) {
      P.newPlot(this.confusionEl(which), [], this.confusionLayout(which, null), { ...PLOT_CONFIG, staticPlot: true });
    }
  }

  confusionEl(which) {
    return which === 'train' ? this.els.confusionTrain : this.els.confusionTest;
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
    Plotly().react(this.els.loss, this.lossTraces([], [], []), this.lossLayout, PLOT_CONFIG);
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
      const axis = linspace(extent[0], extent[1], resolution);
      let z = this.grid.z;
      if (this.discretize) {
        const mid = (range[0] + range[1]) / 2;
        z = z.map((row) => row.map((v) => (v >= mid ? range[1] : range[0])));
      }
      traces.push({
        type: 'heatmap',
        x: axis,
        y: axis,
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
      traces.push(pointsTrace(this.dataset.train, { problem: this.problem, range, test: false }));
      if (this.showTest) traces.push(pointsTrace(this.dataset.test, { problem: this.problem, range, test: true }));
    }
    return traces;
  }

  drawHeatmap() {
    Plotly().react(this.els.heatmap, this.heatmapTraces(), this.heatmapLayout, PLOT_CONFIG);
    this.drawn.heatmap = Boolean(this.grid);
    this.drawLegend();
  }

  drawLegend() {
    const el = this.els.legend;
    if (!el) return;
    const [lo, hi] = this.range();
    const fmt = (v) => (Math.abs(v) >= 100 ? v.toFixed(0) : Number(v.toPrecision(2)).toString());
    el.querySelector('.legend-lo').textContent = fmt(lo);
    el.querySelector('.legend-mid').textContent = fmt((lo + hi) / 2);
    el.querySelector('.legend-hi').textContent = fmt(hi);
  }

  lossTraces(epochs, train, test) {
    return [
      {
        type: 'scatter',
        mode: 'lines',
        name: 'train',
        x: epochs,
        y: train,
        line: { color: '#222', width: 1.5 },
        hovertemplate: 'epoch %{x}<br>train loss %{y:.4f}<extra></extra>',
      },
      {
        type: 'scatter',
        mode: 'lines',
        name: 'test',
        x: epochs,
        y: test,
        line: { color: '#9aa0a6', width: 1.5 },
        hovertemplate: 'epoch %{x}<br>test loss %{y:.4f}<extra></extra>',
      },
    ];
  }

  confusionLayout(which, accuracy) {
    const title = which === 'train' ? 'Train' : 'Test';
    const acc = accuracy == null ? '' : ` · accuracy ${(accuracy * 100).toFixed(1)}%`;
    return {
      margin: { l: 44, r: 6, t: 22, b: 30 },
      height: 150,
      font: FONT,
      title: { text: `${title}${acc}`, font: { size: 11, color: '#333' }, x: 0.02, xanchor: 'left', y: 0.97 },
      xaxis: { title: { text: 'predicted', font: { size: 10 }, standoff: 2 }, type: 'category', side: 'bottom' },
      yaxis: { title: { text: 'true', font: { size: 10 }, standoff: 2 }, type: 'category', autorange: 'reversed' },
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
    const names = labels.map((l) => `class ${l}`);
    const total = matrix.flat().reduce((a, b) => a + b, 0);
    const correct = matrix.reduce((a, row, i) => a + (row[i] || 0), 0);
    const accuracy = total ? correct / total : null;
    const max = Math.max(1, ...matrix.flat());
    const layout = this.confusionLayout(which, accuracy);
    layout.annotations = [];
    matrix.forEach((row, i) =>
      row.forEach((n, j) =>
        layout.annotations.push({
          x: names[j],
          y: names[i],
          text: String(n),
          showarrow: false,
          font: { size: 13, color: n / max > 0.55 ? '#fff' : '#222' },
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
    const { header, arrays } = frame;
    const P = Plotly();
    if (header.grid && arrays.grid) {
      const resolution = header.grid.resolution;
      const range = header.grid.value_range || [0, 1];
      const extent = header.grid.extent || [-6, 6];
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
      if (rangeChanged || !this.drawn.heatmap) this.drawHeatmap();
      else {
        const t = this.heatmapTraces()[0];
        P.restyle(this.els.heatmap, { z: [t.z], x: [t.x], y: [t.y], zsmooth: [t.zsmooth] }, [0]);
      }
    }
    if (header.history && arrays.history) {
      const n = header.history.length ?? arrays.history.length / 3;
      const h = arrays.history;
      const key = `${n}:${h[n - 1]}:${h[2 * n - 1]}`;
      if (key !== this.historyKey) {
        this.historyKey = key;
        const epochs = Array.from(h.subarray(0, n));
        const train = Array.from(h.subarray(n, 2 * n));
        const test = Array.from(h.subarray(2 * n, 3 * n));
        P.react(this.els.loss, this.lossTraces(epochs, train, test), this.lossLayout, PLOT_CONFIG);
        this.drawn.loss = n > 0;
      }
    }
    const conf = header.confusion;
    this.drawConfusion('train', conf ? conf.train : null, conf ? conf.labels : []);
    this.drawConfusion('test', conf ? conf.test : null, conf ? conf.labels : []);
  }
}
