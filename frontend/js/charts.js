// Plotly views of a session: decision heatmap with data points, loss chart, confusion matrices.
// This module holds their shared state and the frame entry point; each view has its own module.

import { confusionMatrices } from './confusion.js';
import { decisionHeatmap } from './heatmap.js';
import { plotSeparators } from './i18n.js';
import { lossChart } from './losschart.js';
import { FONT, Plotly, PLOT_CONFIG } from './plotstyle.js';

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

  /** Draw one decoded frame ({header, arrays}). */
  render(frame) {
    this.lastFrame = frame;
    const { header, arrays } = frame;
    if (header.grid && arrays.grid) this.renderGrid(header, arrays);
    if (header.history && arrays.history) this.renderHistory(header, arrays);
    const conf = header.confusion;
    this.drawConfusion('train', conf ? conf.train : null, conf ? conf.labels : []);
    this.drawConfusion('test', conf ? conf.test : null, conf ? conf.labels : []);
  }
}

// Each view's methods live in its own module.
Object.assign(Charts.prototype, decisionHeatmap, lossChart, confusionMatrices);
