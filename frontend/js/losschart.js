// Charts' line charts: the loss over epochs (train, test, validation; the best epoch marked)
// and the learning-rate range test's loss against rate. Mixed into Charts.

import { ORANGE } from './colours.js';
import { plotSeparators, t } from './i18n.js';
import { FONT, Plotly, PLOT_CONFIG } from './plotstyle.js';

export const lossChart = {
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
  },

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
  },

  /** A frame's history: the loss chart, redrawn when it changed. */
  renderHistory(header, arrays) {
    const P = Plotly();
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
  },

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
  },
};
