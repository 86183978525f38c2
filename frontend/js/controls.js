// Menus and sliders built from GET /api/catalog, bound to the page's State by wire names.
// A control changes the State, then reports the names it changed; the app sends them on.

import { BLUE, ORANGE } from './charts.js';

const $ = (id) => document.getElementById(id);

/** Numbers for menus: 0.00001 rather than 1e-5. */
export function formatNumber(v) {
  if (v === 0) return '0';
  const s = Number(v).toPrecision(6);
  const n = Number.parseFloat(s);
  if (Math.abs(n) < 1e-4) return n.toFixed(Math.min(20, Math.ceil(-Math.log10(Math.abs(n))) + 1)).replace(/0+$/, '');
  return String(n);
}

function option(value, label) {
  const o = document.createElement('option');
  o.value = String(value);
  o.textContent = label;
  return o;
}

function fillSelect(select, choices) {
  select.replaceChildren(...choices.map((c) => option(c.value, c.label)));
}

/** Select `value`, adding it as an option first if the menu lacks it (e.g. lr=0.05 in a URL). */
function selectValue(select, value, label = String(value)) {
  const text = String(value);
  let found = [...select.options].some((o) => o.value === text);
  if (!found) {
    const numeric = [...select.options].every((o) => Number.isFinite(Number(o.value)));
    const extra = option(text, label);
    extra.dataset.extra = 'true';
    if (numeric) {
      const before = [...select.options].find((o) => Number(o.value) > Number(value));
      select.insertBefore(extra, before || null);
    } else select.appendChild(extra);
    found = true;
  }
  select.value = text;
}

// Small sketches of each data set for the buttons, as TF Playground's thumbnails.
// Each maps a point of [-6, 6]² to a value in [-1, 1] (orange..blue).
const SKETCHES = {
  circle: (x, y) => (Math.hypot(x, y) < 3 ? 1 : Math.hypot(x, y) > 3.8 ? -1 : 0),
  xor: (x, y) => (Math.abs(x) < 0.4 || Math.abs(y) < 0.4 ? 0 : x * y > 0 ? 1 : -1),
  gauss: (x, y) => {
    const a = Math.hypot(x - 2.5, y - 2.5);
    const b = Math.hypot(x + 2.5, y + 2.5);
    return a < 2.3 ? 1 : b < 2.3 ? -1 : 0;
  },
  spiral: (x, y) => {
    const r = Math.hypot(x, y);
    if (r < 0.3 || r > 5.8) return 0;
    const t = Math.atan2(y, x) - r * 1.1;
    const s = Math.sin(t);
    return Math.abs(s) < 0.55 ? 0 : s > 0 ? 1 : -1;
  },
  plane: (x, y) => Math.max(-1, Math.min(1, (x + y) / 9)),
  'multi-gauss': (x, y) => {
    const bump = (cx, cy, s) => s * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 4);
    return Math.max(-1, Math.min(1, bump(-3, 3, 1) + bump(3, -3, 1) + bump(3, 3, -1) + bump(-3, -3, -1)));
  },
};

function hexToRgb(hex) {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function drawSketch(canvas, name) {
  const sketch = SKETCHES[name];
  const ctx = canvas.getContext('2d');
  const { width: w, height: h } = canvas;
  const img = ctx.createImageData(w, h);
  const [o, m, b] = [hexToRgb(ORANGE), [232, 234, 235], hexToRgb(BLUE)];
  for (let py = 0; py < h; py += 1) {
    for (let px = 0; px < w; px += 1) {
      const x = (px / (w - 1)) * 12 - 6;
      const y = 6 - (py / (h - 1)) * 12;
      const v = sketch ? sketch(x, y) : 0;
      const t = Math.abs(v);
      const end = v >= 0 ? b : o;
      const i = (py * w + px) * 4;
      for (let k = 0; k < 3; k += 1) img.data[i + k] = Math.round(m[k] + (end[k] - m[k]) * t);
      img.data[i + 3] = 255;
    }
  }
  ctx.putImageData(img, 0, 0);
}

/** The left column (data), the top bar (training) and the output toggles. */
export class Controls {
  /**
   * @param {object} catalog GET /api/catalog
   * @param {import('./state.js').State} state
   * @param {{onChange: (names: string[]) => void, onCommand: (type: string) => void, onUi: (name: string) => void}} hooks
   */
  constructor(catalog, state, hooks) {
    this.catalog = catalog;
    this.state = state;
    this.hooks = hooks;
    this.limits = catalog.limits || {};
    this.running = false;
    this.build();
    this.render();
  }

  change(names) {
    this.render();
    this.hooks.onChange(names);
  }

  build() {
    const c = this.catalog;
    const lrs = c.learning_rates || [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
    fillSelect($('learning-rate'), lrs.map((v) => ({ value: v, label: formatNumber(v) })));
    fillSelect($('activation'), c.activations.map((a) => ({ value: a.name, label: a.label })));
    fillSelect($('optimizer'), c.optimizers.map((a) => ({ value: a.name, label: a.label })));
    fillSelect($('regularization'), c.regularizations.map((a) => ({ value: a.name, label: a.label })));
    const rrs = c.regularization_rates || [0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
    fillSelect($('regularization-rate'), rrs.map((v) => ({ value: v, label: formatNumber(v) })));
    fillSelect($('problem'), c.problems.map((a) => ({ value: a.name, label: a.label })));
    for (const id of ['activation', 'optimizer', 'regularization', 'problem']) {
      for (const choice of c[`${id}s`] || []) {
        const o = [...$(id).options].find((opt) => opt.value === choice.name);
        if (o && choice.note) o.title = choice.note;
      }
    }

    const bindSelect = (id, name, parse = (v) => v) =>
      $(id).addEventListener('change', (ev) => {
        this.state.set(name, parse(ev.target.value));
        this.change([name]);
      });
    bindSelect('learning-rate', 'lr', Number);
    bindSelect('activation', 'activation');
    bindSelect('optimizer', 'optimizer');
    bindSelect('regularization', 'reg');
    bindSelect('regularization-rate', 'reg_rate', Number);
    $('problem').addEventListener('change', (ev) => {
      const problem = ev.target.value;
      this.state.set('problem', problem);
      const names = ['problem'];
      const current = c.datasets.find((d) => d.name === this.state.get('dataset'));
      if (!current || current.problem !== problem) {
        this.state.set('dataset', this.defaultDatasetFor(problem));
        names.push('dataset');
      }
      this.change(names);
    });

    // Data sets: one button each, with a sketch; only the current problem's are shown.
    const box = $('datasets');
    box.replaceChildren();
    for (const d of c.datasets) {
      const btn = document.createElement('button');
      btn.className = 'dataset-btn';
      btn.type = 'button';
      btn.dataset.value = d.name;
      btn.dataset.problem = d.problem;
      btn.dataset.testid = `dataset-${d.name}`;
      btn.setAttribute('role', 'radio');
      btn.title = d.note ? `${d.label}: ${d.note}` : d.label;
      const canvas = document.createElement('canvas');
      canvas.width = 48;
      canvas.height = 48;
      drawSketch(canvas, d.name);
      const label = document.createElement('span');
      label.textContent = d.label;
      btn.append(canvas, label);
      btn.addEventListener('click', () => {
        if (this.state.get('dataset') === d.name) return;
        const names = ['dataset'];
        if (this.state.get('problem') !== d.problem) {
          this.state.set('problem', d.problem);
          names.unshift('problem');
        }
        this.state.set('dataset', d.name);
        this.change(names);
      });
      box.appendChild(btn);
    }

    // Sliders show their value while dragging and commit on release.
    const bindSlider = (id, name, toValue, show) => {
      const el = $(id);
      el.addEventListener('input', () => {
        $(`${id}-value`).textContent = show(toValue(Number(el.value)));
      });
      el.addEventListener('change', () => {
        const v = toValue(Number(el.value));
        if (v === this.state.get(name)) return;
        this.state.set(name, v);
        this.change([name]);
      });
    };
    bindSlider('train-ratio', 'train_ratio', (v) => Math.round(v) / 100, (v) => `${Math.round(v * 100)}%`);
    bindSlider('noise', 'noise', (v) => v, (v) => String(v));
    bindSlider('batch-size', 'batch', (v) => Math.round(v), (v) => String(v));
    const maxPoints = this.limits.max_points || 2000;
    $('num-points').max = String(maxPoints);
    bindSlider('num-points', 'points', (v) => Math.round(v), (v) => String(v));

    $('seed').max = String(2 ** 31 - 1);
    $('seed').addEventListener('change', (ev) => {
      const v = Math.trunc(Number(ev.target.value));
      if (!Number.isFinite(v) || v < 0 || v > 2 ** 31 - 1) {
        this.render();
        return;
      }
      this.state.set('seed', v);
      this.change(['seed']);
    });
    $('regenerate').addEventListener('click', () => {
      let seed;
      do seed = Math.floor(Math.random() * 1_000_000);
      while (seed === this.state.get('seed'));
      this.state.set('seed', seed);
      this.change(['seed']);
    });

    $('play-pause').addEventListener('click', () => {
      const play = !this.running;
      this.setRunning(play); // optimistic; the server's state confirms
      this.hooks.onCommand(play ? 'play' : 'pause');
    });
    $('step').addEventListener('click', () => this.hooks.onCommand('step'));
    $('reset').addEventListener('click', () => this.hooks.onCommand('reset'));

    for (const [id, name] of [
      ['show-test-data', 'show_test'],
      ['discretize', 'discretize'],
    ]) {
      $(id).addEventListener('change', (ev) => {
        this.state.set(name, ev.target.checked);
        this.hooks.onUi(name);
      });
    }
  }

  defaultDatasetFor(problem) {
    const defaults = this.catalog.defaults || {};
    if (defaults.problem === problem && defaults.data?.dataset) return defaults.data.dataset;
    const d = this.catalog.datasets.find((x) => x.problem === problem);
    return d ? d.name : this.state.get('dataset');
  }

  trainSize() {
    return Math.max(1, Math.round(this.state.get('points') * this.state.get('train_ratio')));
  }

  /** Show the State's values in every control. */
  render() {
    const s = this.state;
    selectValue($('learning-rate'), s.get('lr'), formatNumber(s.get('lr')));
    selectValue($('activation'), s.get('activation'));
    selectValue($('optimizer'), s.get('optimizer'));
    selectValue($('regularization'), s.get('reg'));
    selectValue($('regularization-rate'), s.get('reg_rate'), formatNumber(s.get('reg_rate')));
    $('regularization-rate').disabled = s.get('reg') === 'none';
    selectValue($('problem'), s.get('problem'));

    const problem = s.get('problem');
    for (const btn of $('datasets').children) {
      const on = btn.dataset.value === s.get('dataset');
      btn.hidden = btn.dataset.problem !== problem;
      btn.classList.toggle('selected', on);
      btn.setAttribute('aria-checked', String(on));
    }

    const ratio = s.get('train_ratio');
    $('train-ratio').value = String(Math.round(ratio * 100));
    $('train-ratio-value').textContent = `${Math.round(ratio * 100)}%`;
    $('noise').value = String(s.get('noise'));
    $('noise-value').textContent = formatNumber(s.get('noise'));
    const size = this.trainSize();
    const batch = Math.min(s.get('batch'), size);
    $('batch-size').max = String(size);
    $('batch-size').value = String(batch);
    $('batch-size-value').textContent = String(batch);
    $('num-points').value = String(s.get('points'));
    $('num-points-value').textContent = String(s.get('points'));
    if (document.activeElement !== $('seed')) $('seed').value = String(s.get('seed'));

    $('show-test-data').checked = Boolean(s.get('show_test'));
    $('discretize').checked = Boolean(s.get('discretize'));
  }

  setRunning(running) {
    this.running = Boolean(running);
    const btn = $('play-pause');
    btn.classList.toggle('playing', this.running);
    btn.setAttribute('aria-pressed', String(this.running));
    btn.setAttribute('aria-label', this.running ? 'Pause' : 'Run');
  }

  /** Show a SessionState: epoch, speed, losses, running. */
  showState(st) {
    if (!st) return;
    if (typeof st.running === 'boolean') this.setRunning(st.running);
    const epoch = Math.max(0, Math.trunc(st.epoch || 0));
    const el = $('epoch');
    el.textContent = epoch.toLocaleString('en-US', { minimumIntegerDigits: 6 });
    el.dataset.value = String(epoch);
    // The server keeps its last measured rate after a pause; a paused session runs at 0.
    const eps = st.running ? st.epochs_per_second || 0 : 0;
    $('epochs-per-second').textContent = eps >= 100 ? eps.toFixed(0) : eps.toFixed(1);
    const fmt = (v) => (v == null ? '–' : v.toFixed(3));
    $('train-loss').textContent = fmt(st.train_loss);
    $('test-loss').textContent = fmt(st.test_loss);
  }
}
