// What every plotly chart of the page shares: the font, the config, and the plotly.js global
// (loaded by a classic <script>, served by the app at /vendor/).

export const FONT = { family: '"Helvetica Neue", Helvetica, Arial, sans-serif', size: 11, color: '#555' };
export const PLOT_CONFIG = { displayModeBar: false, responsive: true };

export function Plotly() {
  if (!window.Plotly) throw new Error('plotly.js did not load (/vendor/plotly.min.js)');
  return window.Plotly;
}
