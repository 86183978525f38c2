// The page's set-up as one property table keyed by wire (URL) names.
// The same table drives the URL hash, the session config sent to the server and the controls,
// as in TensorFlow Playground's state.ts, but the values live in a State object, not in globals.

/**
 * How each URL key maps onto the server's SessionConfig (docs/protocol.md). `live`: the server
 * applies the change without re-initialising. Types starting with `opt` may be null (an empty
 * value in the URL): the server's default (e.g. the optimiser's own momentum) applies.
 */
export const PROPS = [
  { name: 'problem', path: ['problem'], type: 'string' },
  { name: 'dataset', path: ['data', 'dataset'], type: 'string' },
  { name: 'noise', path: ['data', 'noise'], type: 'number' },
  // URL in percent (10..90), config as a fraction (0.1..0.9).
  { name: 'train_ratio', path: ['data', 'train_ratio'], type: 'percent' },
  { name: 'val_ratio', path: ['data', 'validation_ratio'], type: 'percent' },
  { name: 'classes', path: ['data', 'classes'], type: 'int' },
  { name: 'points', path: ['data', 'num_points'], type: 'int' },
  { name: 'seed', path: ['data', 'seed'], type: 'int' },
  { name: 'features', path: ['features'], type: 'list' },
  { name: 'hidden', path: ['network', 'hidden_layers'], type: 'intlist' },
  { name: 'activation', path: ['network', 'activation'], type: 'string' },
  { name: 'layer_act', path: ['network', 'layer_activations'], type: 'optlist' },
  { name: 'slope', path: ['network', 'leaky_relu_slope'], type: 'number' },
  { name: 'init', path: ['network', 'init'], type: 'string' },
  { name: 'bn', path: ['network', 'batch_norm'], type: 'string' },
  { name: 'dropout', path: ['network', 'dropout'], type: 'number' },
  { name: 'optimizer', path: ['training', 'optimizer'], type: 'string' },
  { name: 'lr', path: ['training', 'learning_rate'], type: 'number', live: true },
  { name: 'batch_mode', path: ['training', 'batch_mode'], type: 'string' },
  { name: 'batch', path: ['training', 'batch_size'], type: 'int' },
  { name: 'loss', path: ['training', 'loss'], type: 'optstring' },
  { name: 'huber', path: ['training', 'huber_delta'], type: 'number' },
  { name: 'reg', path: ['training', 'regularization'], type: 'string', live: true },
  { name: 'reg_rate', path: ['training', 'regularization_rate'], type: 'number', live: true },
  // Optimiser hyperparameters (null: the optimiser's default, catalog optimizers[].params).
  { name: 'momentum', path: ['training', 'momentum'], type: 'optnumber', live: true, hyper: true },
  { name: 'beta1', path: ['training', 'beta1'], type: 'optnumber', live: true, hyper: true },
  { name: 'beta2', path: ['training', 'beta2'], type: 'optnumber', live: true, hyper: true },
  { name: 'eps', path: ['training', 'eps'], type: 'optnumber', live: true, hyper: true },
  { name: 'rho', path: ['training', 'rho'], type: 'optnumber', live: true, hyper: true },
  { name: 'alpha', path: ['training', 'alpha'], type: 'optnumber', live: true, hyper: true },
  { name: 'wd', path: ['training', 'weight_decay'], type: 'optnumber', live: true, hyper: true },
  { name: 'momentum_decay', path: ['training', 'momentum_decay'], type: 'optnumber', live: true, hyper: true },
  // Learning-rate schedule.
  { name: 'schedule', path: ['training', 'schedule', 'kind'], type: 'string', live: true },
  { name: 'sched_factor', path: ['training', 'schedule', 'factor'], type: 'number', live: true },
  { name: 'sched_every', path: ['training', 'schedule', 'every'], type: 'int', live: true },
  { name: 'sched_k', path: ['training', 'schedule', 'k'], type: 'number', live: true },
  { name: 'sched_period', path: ['training', 'schedule', 'period'], type: 'int', live: true },
  { name: 'sched_min_lr', path: ['training', 'schedule', 'min_lr'], type: 'number', live: true },
  { name: 'sched_max_lr', path: ['training', 'schedule', 'max_lr'], type: 'number', live: true },
  { name: 'sched_step_size', path: ['training', 'schedule', 'step_size'], type: 'int', live: true },
  { name: 'sched_cycle', path: ['training', 'schedule', 'cycle_epochs'], type: 'int', live: true },
  { name: 'clip', path: ['training', 'clip'], type: 'string', live: true },
  { name: 'clip_value', path: ['training', 'clip_value'], type: 'number', live: true },
  { name: 'input_noise', path: ['training', 'input_noise'], type: 'number', live: true },
  // Stop conditions (null: off).
  { name: 'max_epochs', path: ['training', 'stop', 'max_epochs'], type: 'optint', live: true },
  { name: 'target_loss', path: ['training', 'stop', 'target_loss'], type: 'optnumber', live: true },
  { name: 'target_acc', path: ['training', 'stop', 'target_accuracy'], type: 'optnumber', live: true },
  { name: 'plateau', path: ['training', 'stop', 'plateau_patience'], type: 'optint', live: true },
  { name: 'early_stop', path: ['training', 'stop', 'early_stopping_patience'], type: 'optint', live: true },
];

/** Values the server assumes for fields that an older catalog's defaults may lack. */
export const FIELD_DEFAULTS = {
  val_ratio: 0,
  classes: 2,
  layer_act: null,
  slope: 0.01,
  init: 'tf',
  bn: 'none',
  dropout: 0,
  batch_mode: 'mini',
  loss: null,
  huber: 1,
  momentum: null,
  beta1: null,
  beta2: null,
  eps: null,
  rho: null,
  alpha: null,
  wd: null,
  momentum_decay: null,
  schedule: 'constant',
  sched_factor: 0.5,
  sched_every: 10,
  sched_k: 0.1,
  sched_period: 100,
  sched_min_lr: 0,
  sched_max_lr: 0.1,
  sched_step_size: 200,
  sched_cycle: 100,
  clip: 'none',
  clip_value: 1,
  input_noise: 0,
  max_epochs: null,
  target_loss: null,
  target_acc: null,
  plateau: null,
  early_stop: null,
};

/** Page-only settings: kept in the URL, never sent to the server. */
export const UI_PROPS = [
  { name: 'show_test', type: 'bool', fallback: false },
  { name: 'discretize', type: 'bool', fallback: false },
  // The page's language (i18n.js); '' until the app picks one (URL, else the browser's).
  { name: 'lang', type: 'string', fallback: '' },
  // A classroom's join code (room.js): the page joins, or rejoins, that room.
  { name: 'room', type: 'string', fallback: '' },
  // The open lesson and its step (lessons.js), so a link opens a lesson at a step.
  { name: 'lesson', type: 'string', fallback: '' },
  { name: 'step', type: 'string', fallback: '' },
];

const PROP_BY_NAME = Object.fromEntries([...PROPS, ...UI_PROPS].map((p) => [p.name, p]));

function getPath(obj, path) {
  return path.reduce((o, k) => (o == null ? undefined : o[k]), obj);
}

function setPath(obj, path, value) {
  let o = obj;
  for (const k of path.slice(0, -1)) {
    if (typeof o[k] !== 'object' || o[k] === null) o[k] = {};
    o = o[k];
  }
  o[path[path.length - 1]] = value;
}

/** Round away float noise such as 0.30000000000000004 for display and URLs. */
function tidy(n) {
  return Number.parseFloat(Number(n).toPrecision(12));
}

/** Config value -> URL text. */
function serialise(prop, value) {
  if (value === null && prop.type.startsWith('opt')) return '';
  switch (prop.type) {
    case 'percent':
      return String(tidy(value * 100));
    case 'list':
    case 'intlist':
    case 'optlist':
      return value.join(',');
    case 'bool':
      return value ? 'true' : 'false';
    case 'number':
    case 'int':
    case 'optnumber':
    case 'optint':
      return String(tidy(value));
    default:
      return String(value);
  }
}

/** URL text -> config value; `undefined` when the text cannot be read (the default is kept). */
function parse(prop, text) {
  const num = (t) => (t.trim() === '' ? NaN : Number(t));
  switch (prop.type) {
    case 'percent': {
      // Percent as TF Playground writes it (50); a fraction with a point (0.5) is read as one too.
      const n = num(text);
      if (!Number.isFinite(n)) return undefined;
      return n <= 1 && text.includes('.') ? n : tidy(n / 100);
    }
    case 'optnumber':
    case 'optint': {
      const t = text.trim();
      if (t === '' || t === 'null' || t === 'off') return null;
      const n = num(t);
      if (prop.type === 'optint') return Number.isInteger(n) ? n : undefined;
      return Number.isFinite(n) ? n : undefined;
    }
    case 'optstring':
      return text.trim() === '' || text === 'null' ? null : text;
    case 'optlist':
      return text.trim() === '' ? null : text.split(',').map((s) => s.trim()).filter(Boolean);
    case 'number': {
      const n = num(text);
      return Number.isFinite(n) ? n : undefined;
    }
    case 'int': {
      const n = num(text);
      return Number.isInteger(n) ? n : undefined;
    }
    case 'list':
      return text === '' ? [] : text.split(',').map((s) => s.trim()).filter(Boolean);
    case 'intlist': {
      if (text.trim() === '') return [];
      const xs = text.split(',').map(num);
      return xs.every(Number.isInteger) ? xs : undefined;
    }
    case 'bool':
      return text === 'true' || text === '1';
    default:
      return text;
  }
}

function clone(v) {
  return v === undefined ? undefined : JSON.parse(JSON.stringify(v));
}

/** The page's set-up: values keyed by wire names, plus page-only settings. */
export class State {
  /** @param {object} defaults a full SessionConfig (catalog.defaults) */
  constructor(defaults) {
    this.defaults = clone(defaults);
    this.values = { ...clone(FIELD_DEFAULTS) };
    this.setConfig(defaults);
    for (const p of UI_PROPS) this.values[p.name] = p.fallback;
  }

  get(name) {
    return clone(this.values[name]);
  }

  set(name, value) {
    if (!(name in PROP_BY_NAME)) throw new Error(`unknown setting ${name}`);
    this.values[name] = clone(value);
  }

  /** Adopt a full or partial SessionConfig (e.g. the server's answer). */
  setConfig(config) {
    for (const p of PROPS) {
      const v = getPath(config, p.path);
      if (v !== undefined) this.values[p.name] = clone(v);
    }
  }

  /** The full SessionConfig these values describe. */
  config() {
    const out = {};
    for (const p of PROPS) setPath(out, p.path, clone(this.values[p.name]));
    return out;
  }

  /** A partial SessionConfig holding only the named settings. */
  partial(names) {
    const out = {};
    for (const name of names) {
      const p = PROP_BY_NAME[name];
      if (p && p.path) setPath(out, p.path, clone(this.values[name]));
    }
    return out;
  }

  /** True when every named setting applies live (no re-initialisation on the server). */
  static isLive(names) {
    return names.every((n) => PROP_BY_NAME[n] && PROP_BY_NAME[n].live);
  }

  /** `dataset=xor&noise=10&...`; every key is written so a shared link never depends on defaults. */
  toHash() {
    const parts = [];
    for (const p of [...PROPS, ...UI_PROPS]) {
      const v = this.values[p.name];
      if (v === undefined || v === '') continue;
      parts.push(`${p.name}=${encodeURIComponent(serialise(p, v)).replace(/%2C/g, ',')}`);
    }
    return parts.join('&');
  }

  /**
   * Read `#key=value&...` over the defaults. Unknown keys and unreadable values are ignored.
   * Returns the keys it could not read, for a warning.
   */
  readHash(hash, defaultDatasetFor = (problem) => (problem === 'regression' ? 'plane' : 'circle')) {
    const bad = [];
    const text = hash.startsWith('#') ? hash.slice(1) : hash;
    if (!text) return bad;
    const seen = new Set();
    for (const pair of text.split('&')) {
      if (!pair) continue;
      const i = pair.indexOf('=');
      const key = decodeURIComponent(i < 0 ? pair : pair.slice(0, i));
      const raw = i < 0 ? '' : decodeURIComponent(pair.slice(i + 1).replace(/\+/g, ' '));
      const prop = PROP_BY_NAME[key];
      if (!prop) {
        bad.push(key);
        continue;
      }
      const value = parse(prop, raw);
      if (value === undefined) bad.push(key);
      else {
        this.values[key] = value;
        seen.add(key);
      }
    }
    // Only a problem in the URL: take that problem's default data set, as the server does.
    if (seen.has('problem') && !seen.has('dataset') && this.values.problem !== this.defaults.problem) {
      this.values.dataset = defaultDatasetFor(this.values.problem);
    }
    return bad;
  }
}
