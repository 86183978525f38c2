// Menus and sliders built from GET /api/catalog, bound to the page's State by wire names.
// A control changes the State, then reports the names it changed; the app sends them on.

import { BLUE, ORANGE, classColor } from './charts.js';
import { formatFixed, formatPercent, language, t, tOr } from './i18n.js';
import { PROPS } from './state.js';

const $ = (id) => document.getElementById(id);

/** Numbers for menus: 0.00001 rather than 1e-5. */
export function formatNumber(v) {
  if (v === 0) return '0';
  const s = Number(v).toPrecision(6);
  const n = Number.parseFloat(s);
  const text = Math.abs(n) < 1e-4 ? n.toFixed(Math.min(20, Math.ceil(-Math.log10(Math.abs(n))) + 1)).replace(/0+$/, '') : String(n);
  // Decimal comma in Spanish (menus and read-outs only; values and URLs keep the point).
  return language() === 'es' ? text.replace('.', ',') : text;
}

/** A catalog entry's label in the page's language (the server's English label as a fallback). */
export function catalogLabel(group, item) {
  return tOr(`catalog.${group}.${item.name}`, item.label);
}

/** A catalog entry's note (tooltip) in the page's language, '' when it has none. */
export function catalogNote(group, item) {
  return item.note ? tOr(`catalogNote.${group}.${item.name}`, item.note) : '';
}

/** "Label: note" for a tooltip. */
function catalogTitle(group, item) {
  const note = catalogNote(group, item);
  return note ? `${catalogLabel(group, item)}: ${note}` : catalogLabel(group, item);
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
// Each maps a point of [-6, 6]² to a value in [-1, 1] (orange..blue), or, for data sets with
// k classes, to {c: class index} (or null for the gaps between them).
const SKETCHES = {
  circle: (x, y) => (Math.hypot(x, y) < 3 ? 1 : Math.hypot(x, y) > 3.8 ? -1 : 0),
  xor: (x, y) => (Math.abs(x) < 0.4 || Math.abs(y) < 0.4 ? 0 : x * y > 0 ? 1 : -1),
  gauss: (x, y) => {
    const a = Math.hypot(x - 2.5, y - 2.5);
    const b = Math.hypot(x + 2.5, y + 2.5);
    return a < 2.3 ? 1 : b < 2.3 ? -1 : 0;
  },
  spiral: (x, y, k = 2) => {
    const r = Math.hypot(x, y);
    if (r < 0.3 || r > 5.8) return null;
    const turn = 2 * Math.PI;
    const t = (((Math.atan2(y, x) - r * 1.1) % turn) + turn) % turn;
    const arm = t / (turn / k);
    const frac = arm - Math.floor(arm);
    return frac < 0.2 || frac > 0.8 ? null : { c: Math.floor(arm) % k };
  },
  blobs: (x, y, k = 2) => {
    // k round clouds evenly spaced on a circle of radius 3.5.
    for (let c = 0; c < k; c += 1) {
      const a = (2 * Math.PI * c) / k + Math.PI / 4;
      if (Math.hypot(x - 3.5 * Math.cos(a), y - 3.5 * Math.sin(a)) < (k > 4 ? 1.5 : 1.9)) return { c };
    }
    return null;
  },
  moons: (x, y) => {
    // Two interleaving half circles (scikit-learn's make_moons, scaled to the plane).
    const up = Math.hypot(x + 1.5, y + 0.75);
    const down = Math.hypot(x - 1.5, y - 0.75);
    if (y >= -0.75 && Math.abs(up - 3) < 0.8) return -1;
    if (y <= 0.75 && Math.abs(down - 3) < 0.8) return 1;
    return null;
  },
  checkerboard: (x, y) => ((Math.floor(x / 3) + Math.floor(y / 3)) % 2 === 0 ? 1 : -1),
  rings: (x, y, k = 3) => {
    const r = Math.hypot(x, y);
    const band = 5.8 / k;
    const c = Math.floor(r / band);
    if (c >= k || r - c * band > band * 0.7) return null;
    return { c };
  },
  iris: (x, y) => {
    // Three clouds along a diagonal: setosa apart, versicolor and virginica close.
    const cs = [
      [-3.6, -3, 1.4],
      [0.8, 0.6, 1.6],
      [3.2, 3, 1.6],
    ];
    for (let c = 0; c < 3; c += 1) if (Math.hypot(x - cs[c][0], (y - cs[c][1]) * 1.4) < cs[c][2]) return { c };
    return null;
  },
  pass_fail: (x, y) => {
    // Hours attended (x) and studied (y): pass above a falling line.
    const margin = x + y - 0.5;
    return Math.abs(margin) < 0.6 ? 0 : margin > 0 ? 1 : -1;
  },
  custom: (x, y) => {
    // A few hand-placed dots of both classes, as drawn by someone.
    const dots = [[-3, 2.5, 0], [-1.5, 3.5, 0], [-3.5, -0.5, 0], [2.5, -2, 1], [3.5, 1, 1], [1, -3.8, 1], [0.5, 1, 0], [-1, -2.5, 1]];
    for (const [dx, dy, c] of dots) if (Math.hypot(x - dx, y - dy) < 0.9) return { c };
    return null;
  },
  plane: (x, y) => Math.max(-1, Math.min(1, (x + y) / 9)),
  sine: (x) => Math.sin((x * Math.PI) / 4),
  ripple: (x, y) => Math.cos(Math.hypot(x, y) * 1.3) * Math.exp(-Math.hypot(x, y) / 12),
  'multi-gauss': (x, y) => {
    const bump = (cx, cy, s) => s * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 4);
    return Math.max(-1, Math.min(1, bump(-3, 3, 1) + bump(3, -3, 1) + bump(3, 3, -1) + bump(-3, -3, -1)));
  },
};

function hexToRgb(hex) {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function drawSketch(canvas, name, classes = 2) {
  const sketch = SKETCHES[name];
  const ctx = canvas.getContext('2d');
  const { width: w, height: h } = canvas;
  const img = ctx.createImageData(w, h);
  const [o, m, b] = [hexToRgb(ORANGE), [232, 234, 235], hexToRgb(BLUE)];
  for (let py = 0; py < h; py += 1) {
    for (let px = 0; px < w; px += 1) {
      const x = (px / (w - 1)) * 12 - 6;
      const y = 6 - (py / (h - 1)) * 12;
      const v = sketch ? sketch(x, y, classes) : 0;
      let rgb;
      if (v === null) rgb = m;
      else if (typeof v === 'object') rgb = hexToRgb(classColor(v.c, classes));
      else {
        const t = Math.abs(v);
        const end = v >= 0 ? b : o;
        rgb = m.map((mk, k) => mk + (end[k] - mk) * t);
      }
      const i = (py * w + px) * 4;
      for (let k = 0; k < 3; k += 1) img.data[i + k] = Math.round(rgb[k]);
      img.data[i + 3] = 255;
    }
  }
  ctx.putImageData(img, 0, 0);
}

const PROP_BY_NAME = Object.fromEntries(PROPS.map((p) => [p.name, p]));

/** How the optimiser hyperparameters are labelled (wire name -> state name, label). */
const HYPERPARAMS = {
  momentum: { prop: 'momentum', label: () => t('app.hyper.momentum'), min: 0, max: 0.999, step: 0.05 },
  beta1: { prop: 'beta1', label: () => t('app.hyper.beta1'), min: 0, max: 0.999, step: 0.01 },
  beta2: { prop: 'beta2', label: () => t('app.hyper.beta2'), min: 0, max: 0.99999, step: 0.001 },
  eps: { prop: 'eps', label: () => 'ε', min: 1e-12, max: 1, step: 'any' },
  rho: { prop: 'rho', label: () => t('app.hyper.rho'), min: 0, max: 0.999, step: 0.01 },
  alpha: { prop: 'alpha', label: () => t('app.hyper.alpha'), min: 0, max: 0.999, step: 0.01 },
  momentum_decay: { prop: 'momentum_decay', label: () => t('app.hyper.momentumDecay'), min: 0, max: 1, step: 0.001 },
  weight_decay: { prop: 'wd', label: () => t('app.panels.weightDecay'), min: 0, max: 10, step: 0.0001 },
};

/** Loss names that fit the narrow panels (the catalog's full label is the tooltip). */
const LOSS_SHORT = {
  bce: () => t('app.lossShort.bce'),
  cce: () => t('app.lossShort.cce'),
  tf_squared: () => t('app.lossShort.tf_squared'),
  mse: () => t('app.lossShort.mse'),
  mae: () => t('app.lossShort.mae'),
  huber: () => 'Huber',
};

/** Top-bar menus filled from the catalog: select id -> catalog group. */
const TOP_MENUS = { activation: 'activations', optimizer: 'optimizers', regularization: 'regularizations', problem: 'problems' };
/** Panel menus filled from the catalog: select id -> catalog group. */
const PANEL_MENUS = { init: 'inits', 'batch-norm': 'batch_norm', 'batch-mode': 'batch_modes', schedule: 'schedules', clip: 'clipping' };

/** Schedule parameters shown per schedule kind. */
export const SCHEDULE_PARAMS = {
  constant: [],
  step: ['sched_factor', 'sched_every'],
  exponential: ['sched_k'],
  time: ['sched_k'],
  cosine: ['sched_period', 'sched_min_lr'],
  cyclical: ['sched_max_lr', 'sched_step_size'],
  one_cycle: ['sched_cycle'],
};

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
    this.builtOptimizer = null;
    this.build();
    this.buildCourse();
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
    for (const [id, group] of Object.entries(TOP_MENUS)) fillSelect($(id), c[group].map((a) => ({ value: a.name, label: a.label })));
    const rrs = c.regularization_rates || [0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
    fillSelect($('regularization-rate'), rrs.map((v) => ({ value: v, label: formatNumber(v) })));
    this.labelTopMenus();

    const bindSelect = (id, name, parse = (v) => v) =>
      $(id).addEventListener('change', (ev) => {
        this.state.set(name, parse(ev.target.value));
        this.change([name]);
      });
    bindSelect('learning-rate', 'lr', Number);
    $('activation').addEventListener('change', (ev) => {
      // One activation for every layer: per-layer choices are dropped.
      this.state.set('activation', ev.target.value);
      const names = ['activation'];
      if (this.state.get('layer_act') !== null) {
        this.state.set('layer_act', null);
        names.push('layer_act');
      }
      this.change(names);
    });
    $('optimizer').addEventListener('change', (ev) => {
      const name = ev.target.value;
      this.state.set('optimizer', name);
      const names = ['optimizer'];
      // Hyperparameters the new optimiser does not have go back to "default" (null).
      const params = this.optimizerParams(name);
      for (const [wire, h] of Object.entries(HYPERPARAMS)) {
        if (!(wire in params) && this.state.get(h.prop) !== null) {
          this.state.set(h.prop, null);
          names.push(h.prop);
        }
      }
      this.change(names);
    });
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
      this.change(this.keepConsistent(names));
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
      const canvas = document.createElement('canvas');
      canvas.width = 48;
      canvas.height = 48;
      canvas.dataset.classes = '2';
      drawSketch(canvas, d.name);
      const label = document.createElement('span');
      btn.append(canvas, label);
      this.labelDataset(btn, d);
      btn.addEventListener('click', () => {
        if (this.state.get('dataset') === d.name || d.name === 'custom') return;
        const names = ['dataset'];
        if (this.state.get('problem') !== d.problem) {
          this.state.set('problem', d.problem);
          names.unshift('problem');
        }
        this.state.set('dataset', d.name);
        this.dataClasses = null; // until the new data's dataset message says
        // Each data set starts with its own number of classes (rings: 3); the slider changes it.
        // (Only where the number of classes is a choice: tabular data has its own, fixed.)
        const k = d.problem === 'classification' && (d.max_classes || 2) > 2 ? d.classes || 2 : 2;
        if (k !== this.state.get('classes')) {
          this.state.set('classes', k);
          names.push('classes');
        }
        this.change(this.keepConsistent(names));
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
    bindSlider('train-ratio', 'train_ratio', (v) => Math.round(v) / 100, (v) => formatPercent(v, 0));
    $('classes').addEventListener('input', () => {
      $('classes-value').textContent = $('classes').value;
    });
    $('classes').addEventListener('change', () => {
      const v = Math.round(Number($('classes').value));
      if (v === this.state.get('classes')) return;
      this.state.set('classes', v);
      this.change(this.keepConsistent(['classes']));
    });
    $('validation').addEventListener('change', (ev) => {
      const names = ['val_ratio'];
      if (ev.target.checked) {
        // The usual split: 60 % training, 20 % validation, 20 % test.
        this.state.set('train_ratio', 0.6);
        this.state.set('val_ratio', 0.2);
        names.unshift('train_ratio');
      } else {
        this.state.set('val_ratio', 0);
        if (this.state.get('early_stop') !== null) {
          // Early stopping watches the validation loss: it goes with it.
          this.state.set('early_stop', null);
          names.push('early_stop');
        }
      }
      this.change(names);
    });
    $('val-ratio').addEventListener('input', () => {
      const v = Number($('val-ratio').value) / 100;
      const train = Math.min(this.state.get('train_ratio'), Math.round((0.9 - v) * 100) / 100);
      $('val-ratio-value').textContent = formatPercent(v, 0);
      $('test-ratio-value').textContent = formatPercent(Math.round((1 - v - train) * 100) / 100, 0);
    });
    $('val-ratio').addEventListener('change', () => {
      const v = Math.round(Number($('val-ratio').value)) / 100;
      if (v === this.state.get('val_ratio')) return;
      this.state.set('val_ratio', v);
      const names = ['val_ratio'];
      // Leave at least 10 % for testing.
      if (this.state.get('train_ratio') + v > 0.9 + 1e-9) {
        this.state.set('train_ratio', Math.round((0.9 - v) * 100) / 100);
        names.unshift('train_ratio');
      }
      this.change(names);
    });
    bindSlider('noise', 'noise', (v) => v, (v) => formatNumber(v));
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

  /** Catalog labels and notes of the top bar's menus, in the page's language. */
  labelTopMenus() {
    for (const [id, group] of Object.entries(TOP_MENUS)) {
      for (const choice of this.catalog[group] || []) {
        const o = [...$(id).options].find((opt) => opt.value === choice.name);
        if (!o) continue;
        o.textContent = catalogLabel(group, choice);
        const note = catalogNote(group, choice);
        if (note) o.title = note;
      }
    }
    for (const id of ['learning-rate', 'regularization-rate']) {
      for (const o of $(id).options) o.textContent = formatNumber(Number(o.value));
    }
  }

  /** A data set button's caption and tooltip. */
  labelDataset(btn, d) {
    const label = catalogLabel('datasets', d);
    btn.querySelector('span').textContent = label;
    const note = catalogNote('datasets', d) || (d.name === 'custom' ? t('app.data.customNote') : '');
    btn.title = note ? `${label}: ${note}` : label;
  }

  /** The language changed: every label the controls wrote goes again. */
  relabel() {
    this.labelTopMenus();
    this.labelPanelMenus();
    for (const btn of $('datasets').children) {
      const d = this.catalog.datasets.find((x) => x.name === btn.dataset.value);
      if (d) this.labelDataset(btn, d);
    }
    $('loss').dataset.key = '';
    this.builtOptimizer = null;
    this.render();
    this.setRunning(this.running);
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
      // "Your data" is set by the server (drawn points, an upload): shown only while in use.
      btn.hidden = btn.dataset.value === 'custom' ? !on : btn.dataset.problem !== problem;
      btn.classList.toggle('selected', on);
      btn.setAttribute('aria-checked', String(on));
    }

    const ds = this.catalog.datasets.find((d) => d.name === s.get('dataset'));
    const multi = Boolean(ds && ds.problem === 'classification' && (ds.max_classes || 2) > 2 && ds.name !== 'custom');
    $('classes-field').hidden = !multi;
    if (multi) {
      $('classes').max = String(ds.max_classes);
      $('classes').value = String(s.get('classes'));
      $('classes-value').textContent = String(s.get('classes'));
    }
    // Thumbnails of data sets with k classes show k classes.
    for (const btn of $('datasets').children) {
      const d = this.catalog.datasets.find((x) => x.name === btn.dataset.value);
      const mine = d && d.name === s.get('dataset');
      const k = d && (d.max_classes || 2) > 2 ? Math.min(d.max_classes, Math.max(2, mine ? s.get('classes') : d.classes || 2)) : 2;
      const canvas = btn.querySelector('canvas');
      if (canvas && canvas.dataset.classes !== String(k)) {
        canvas.dataset.classes = String(k);
        drawSketch(canvas, d.name, k);
      }
    }

    const ratio = s.get('train_ratio');
    const val = s.get('val_ratio') || 0;
    $('train-ratio').max = String(Math.round((0.9 - val) * 100));
    $('train-ratio').value = String(Math.round(ratio * 100));
    $('train-ratio-value').textContent = formatPercent(ratio, 0);
    $('train-ratio-label').textContent = val > 0 ? t('app.data.trainingData') : t('app.data.trainRatio');
    $('validation').checked = val > 0;
    $('val-ratio-row').hidden = !(val > 0);
    $('val-ratio').value = String(Math.round(val * 100));
    $('val-ratio-value').textContent = formatPercent(val, 0);
    $('test-ratio-value').textContent = formatPercent(Math.round((1 - val - ratio) * 100) / 100, 0);
    $('noise').value = String(s.get('noise'));
    $('noise-value').textContent = formatNumber(s.get('noise'));
    const size = this.trainSize();
    const batch = Math.min(s.get('batch'), size);
    $('batch-size').max = String(size);
    $('batch-size').value = String(batch);
    $('batch-size-value').textContent = String(batch);
    $('batch-size-field').hidden = s.get('batch_mode') !== 'mini';
    $('num-points').value = String(s.get('points'));
    $('num-points-value').textContent = String(s.get('points'));
    if (document.activeElement !== $('seed')) $('seed').value = String(s.get('seed'));

    $('show-test-data').checked = Boolean(s.get('show_test'));
    $('discretize').checked = Boolean(s.get('discretize'));
    this.renderCourse();
    this.hooks.onRender?.();
  }

  /** The optimiser's hyperparameters and their defaults (catalog optimizers[].params). */
  optimizerParams(name = this.state.get('optimizer')) {
    const o = this.catalog.optimizers.find((x) => x.name === name);
    return (o && o.params) || {};
  }

  /** The activations in use, one per hidden layer. */
  layerActivations() {
    const n = this.state.get('hidden').length;
    const per = this.state.get('layer_act');
    return per && per.length === n ? per : Array(n).fill(this.state.get('activation'));
  }

  /** Number of classes the current data set has (0 for regression). */
  numClasses() {
    const ds = this.catalog.datasets.find((d) => d.name === this.state.get('dataset'));
    if (!ds || ds.problem !== 'classification') return 0;
    // The config's number of classes (set from the data set's own on choosing it, see build()),
    // or what the data itself has when it says more (tabular data, uploads: the dataset message).
    const configured = (ds.max_classes || 2) > 2 ? Math.max(2, this.state.get('classes')) : Math.max(2, ds.classes || 2);
    return Math.max(configured, this.dataClasses || 0);
  }

  /** Losses offered for the problem and number of classes. */
  allowedLosses() {
    const problem = this.state.get('problem');
    const fits = this.catalog.problem_losses?.[problem] || this.catalog.losses.map((l) => l.name);
    const binary = this.catalog.binary_losses || [];
    return fits.filter((l) => !(this.numClasses() > 2 && binary.includes(l)));
  }

  /**
   * After a change of problem, data set or classes: put dependent settings back in range
   * (classes for a data set that has fewer, a loss that no longer fits). Returns all names.
   */
  keepConsistent(names) {
    const out = [...names];
    const ds = this.catalog.datasets.find((d) => d.name === this.state.get('dataset'));
    const maxClasses = ds && ds.problem === 'classification' ? ds.max_classes || 2 : 2;
    if (this.state.get('classes') > maxClasses) {
      this.state.set('classes', 2);
      out.push('classes');
    }
    const loss = this.state.get('loss');
    if (loss !== null && !this.allowedLosses().includes(loss)) {
      this.state.set('loss', null);
      out.push('loss');
    }
    return out;
  }

  /** Panels under the network: every training option of the course. */
  buildCourse() {
    const c = this.catalog;
    for (const [id, group] of Object.entries(PANEL_MENUS)) fillSelect($(id), (c[group] || []).map((x) => ({ value: x.name, label: x.label })));
    this.labelPanelMenus();

    // Every [data-prop] control in the panels sets the state key it names.
    for (const el of document.querySelectorAll('#options [data-prop]')) this.bindProp(el);

    $('loss').addEventListener('change', (ev) => {
      this.state.set('loss', ev.target.value === '' ? null : ev.target.value);
      this.change(['loss']);
    });
  }

  /** Catalog labels and tooltips of the panels' menus, in the page's language. */
  labelPanelMenus() {
    for (const [id, group] of Object.entries(PANEL_MENUS)) {
      for (const x of this.catalog[group] || []) {
        const o = [...$(id).options].find((opt) => opt.value === x.name);
        if (!o) continue;
        // "He / Kaiming normal" -> "He normal": the panels are narrow; the full name is the tooltip.
        const label = catalogLabel(group, x);
        o.textContent = id === 'init' ? label.replace(/ \/ [^ ]+/, '') : label;
        o.title = catalogTitle(group, x);
      }
    }
  }

  /** Bind a select or number input to the state key in its data-prop attribute. */
  bindProp(el) {
    const name = el.dataset.prop;
    const prop = PROP_BY_NAME[name];
    if (!prop) return;
    el.addEventListener('change', () => {
      // A field being rebuilt away (another optimiser) may report a change as it goes: ignore it.
      if (el.dataset.retired || !el.isConnected) return;
      let value;
      if (el.tagName === 'SELECT') value = el.value;
      else {
        const text = el.value.trim();
        const optional = prop.type.startsWith('opt');
        if (text === '') {
          if (!optional) {
            this.render();
            return;
          }
          value = null;
        } else {
          const scale = Number(el.dataset.scale || 1);
          value = Number(text) / scale;
          const min = el.min === '' ? -Infinity : Number(el.min) / scale;
          const max = el.max === '' ? Infinity : Number(el.max) / scale;
          const int = prop.type === 'int' || prop.type === 'optint';
          if (!Number.isFinite(value) || value < min || value > max || (int && !Number.isInteger(value))) {
            el.classList.add('invalid');
            el.title = [
              int ? t('app.invalid.wholeNumber') : t('app.invalid.number'),
              Number.isFinite(min) ? t('app.invalid.atLeast', { min }) : '',
              Number.isFinite(max) ? t('app.invalid.atMost', { max }) : '',
              optional ? t('app.invalid.emptyOff') : '',
            ].join('');
            return;
          }
          value = Number(value.toPrecision(12));
        }
      }
      el.classList.remove('invalid');
      if (JSON.stringify(value) === JSON.stringify(this.state.get(name))) return;
      this.state.set(name, value);
      this.change([name]);
    });
  }

  /** Show one [data-prop] control's value (a default in grey where the state holds null). */
  showProp(el, fallback) {
    const name = el.dataset.prop;
    const v = this.state.get(name);
    if (el.tagName === 'SELECT') {
      selectValue(el, v);
      return;
    }
    if (document.activeElement === el && el.classList.contains('invalid')) return;
    const scale = Number(el.dataset.scale || 1);
    const shown = v ?? fallback;
    el.value = shown == null ? '' : String(Number((shown * scale).toPrecision(10)));
    el.classList.toggle('is-default', v == null && fallback != null);
    el.classList.remove('invalid');
  }

  /** Rebuild the hyperparameter rows when the optimiser changes. */
  buildOptimizerParams() {
    const name = this.state.get('optimizer');
    if (this.builtOptimizer === name) return;
    this.builtOptimizer = name;
    const box = $('optimizer-params');
    for (const old of box.querySelectorAll('input')) old.dataset.retired = 'true';
    box.replaceChildren();
    for (const wire of Object.keys(this.optimizerParams(name))) {
      const h = HYPERPARAMS[wire];
      if (!h || h.prop === 'wd') continue; // weight decay lives in the Regularisation panel
      const row = document.createElement('div');
      row.className = 'row';
      const label = document.createElement('label');
      label.htmlFor = `opt-${wire}`;
      label.textContent = h.label();
      const input = document.createElement('input');
      input.type = 'number';
      input.id = `opt-${wire}`;
      input.dataset.testid = `opt-${wire}`;
      input.dataset.prop = h.prop;
      input.min = String(h.min);
      input.max = String(h.max);
      input.step = String(h.step);
      row.append(label, input);
      box.appendChild(row);
      this.bindProp(input);
    }
  }

  renderCourse() {
    const s = this.state;
    const c = this.catalog;
    const params = this.optimizerParams();
    this.buildOptimizerParams();
    const opt = c.optimizers.find((o) => o.name === s.get('optimizer'));
    $('optimizer-name').textContent = opt ? `· ${catalogLabel('optimizers', opt)}` : '';
    $('optimizer-note').textContent = opt ? catalogNote('optimizers', opt) : '';
    for (const el of document.querySelectorAll('#options [data-prop]')) {
      const wire = Object.keys(HYPERPARAMS).find((k) => HYPERPARAMS[k].prop === el.dataset.prop);
      const fallback = wire ? params[wire] ?? (wire === 'weight_decay' ? 0 : undefined) : undefined;
      this.showProp(el, fallback);
    }
    const wd = $('weight-decay');
    wd.title = params.weight_decay === undefined ? t('app.panels.noWeightDecay') : t('app.panels.weightDecayTitle');

    // Leaky ReLU slope, only when a layer uses leaky ReLU.
    $('slope-row').hidden = !this.layerActivations().includes('leaky_relu');

    // Loss: the problem's losses; binary ones only for two classes.
    const allowed = this.allowedLosses();
    const byName = Object.fromEntries(c.losses.map((l) => [l.name, l]));
    const k = this.numClasses();
    const dflt = s.get('problem') === 'regression' ? c.default_loss?.regression || 'mse' : k > 2 ? 'cce' : c.default_loss?.classification || 'bce';
    const key = `${allowed.join(',')}|${dflt}`;
    if ($('loss').dataset.key !== key) {
      $('loss').dataset.key = key;
      fillSelect($('loss'), [
        { value: '', label: t('app.panels.defaultLoss', { name: dflt.toUpperCase() }) },
        ...allowed.map((l) => ({ value: l, label: LOSS_SHORT[l]?.() || (byName[l] ? catalogLabel('losses', byName[l]) : l) })),
      ]);
      for (const o of $('loss').options) {
        const l = byName[o.value || dflt];
        if (l) o.title = catalogTitle('losses', l);
      }
    }
    selectValue($('loss'), s.get('loss') ?? '');
    $('huber-row').hidden = (s.get('loss') ?? dflt) !== 'huber';

    // Schedule: only its own parameters.
    const kind = s.get('schedule');
    for (const row of document.querySelectorAll('#panel-schedule [data-kinds]')) {
      row.hidden = !row.dataset.kinds.split(' ').includes(kind);
    }
    const sched = c.schedules?.find((x) => x.name === kind);
    const note = sched ? catalogNote('schedules', sched) : '';
    $('schedule-note').textContent = (sched?.note || '').startsWith('lr') ? t('app.panels.scheduleRate', { formula: note }) : note;

    $('clip-value-row').hidden = s.get('clip') === 'none';

    // Early stopping needs a validation set.
    const early = $('stop-early');
    early.disabled = !(s.get('val_ratio') > 0);
    early.title = early.disabled ? t('app.panels.earlyNeedsValidation') : t('app.panels.earlyTitle');
  }

  setRunning(running) {
    this.running = Boolean(running);
    const btn = $('play-pause');
    btn.classList.toggle('playing', this.running);
    btn.setAttribute('aria-pressed', String(this.running));
    btn.setAttribute('aria-label', this.running ? t('app.top.pause') : t('app.top.run'));
  }

  /** Show a SessionState: epoch, speed, losses, running. */
  showState(st) {
    if (!st) return;
    if (typeof st.running === 'boolean') this.setRunning(st.running);
    const epoch = Math.max(0, Math.trunc(st.epoch || 0));
    const el = $('epoch');
    // TF Playground's 000,000; Spanish groups digits with a point (000.000).
    el.textContent = epoch.toLocaleString('en-US', { minimumIntegerDigits: 6 }).replace(/,/g, t('app.top.epochGroup'));
    el.dataset.value = String(epoch);
    // The server keeps its last measured rate after a pause; a paused session runs at 0.
    const eps = st.running ? st.epochs_per_second || 0 : 0;
    $('epochs-per-second').textContent = formatFixed(eps, eps >= 100 ? 0 : 1);
    const fmt = (v) => formatFixed(v, 3);
    $('train-loss').textContent = fmt(st.train_loss);
    $('test-loss').textContent = fmt(st.test_loss);
    const hasVal = st.validation_loss != null || (this.state.get('val_ratio') || 0) > 0;
    $('validation-loss-box').hidden = !hasVal;
    $('validation-loss').textContent = fmt(st.validation_loss);
    // The rate in force now (a schedule changes it while training).
    const lr = st.learning_rate ?? this.state.get('lr');
    const now = $('lr-now');
    const text = lr == null ? '–' : formatNumber(Number(Number(lr).toPrecision(3)));
    if (now.textContent !== text) now.textContent = text;
    now.dataset.value = lr == null ? '' : String(lr);
  }
}
