// Charts' confusion matrices (training and test data), with the accuracy in their titles.
// Mixed into Charts.

import { classColor } from './colours.js';
import { formatPercent, plotSeparators, t } from './i18n.js';
import { FONT, Plotly, PLOT_CONFIG } from './plotstyle.js';

export const confusionMatrices = {
  confusionEl(which) {
    return which === 'train' ? this.els.confusionTrain : this.els.confusionTest;
  },

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
  },

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
  },

};
