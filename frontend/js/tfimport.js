// Import a TensorFlow Playground link (playground.tensorflow.org/#activation=tanh&batchSize=10&...)
// as this playground's set-up, so teachers' existing links keep working. The mapping is pure
// (no DOM): parseTfLink(text) -> {key: raw value}, tfToValues(params, catalog) -> the page's
// State values (URL / wire names, see state.js) plus notes and warnings. TfImportDialog wires
// the dialog in index.html.

import { t as tr } from './i18n.js';

/** TF Playground's feature keys -> our feature names. */
export const TF_FEATURES = {
  x: 'x1',
  y: 'x2',
  xSquared: 'x1^2',
  ySquared: 'x2^2',
  xTimesY: 'x1x2',
  sinX: 'sin_x1',
  sinY: 'sin_x2',
  cosX: 'cos_x1',
  cosY: 'cos_x2',
};

/** TF Playground's data set names -> ours. */
export const TF_DATASETS = {
  circle: 'circle',
  xor: 'xor',
  gauss: 'gauss',
  spiral: 'spiral',
  'reg-plane': 'plane',
  'reg-gauss': 'multi-gauss',
};

const TF_REGULARIZATION = { null: 'none', none: 'none', L1: 'l1', L2: 'l2', l1: 'l1', l2: 'l2' };
/** TF Playground's sample counts (NUM_SAMPLES_CLASSIFY, NUM_SAMPLES_REGRESS). */
const TF_POINTS = { classification: 500, regression: 1200 };

/**
 * The key/value pairs of a TF Playground link: a full URL, or just its hash (with or without
 * '#'). Returns {params} or {error}.
 */
export function parseTfLink(text) {
  const raw = String(text ?? '').trim();
  if (!raw) return { error: tr('app.tfImport.paste') };
  let hash = raw;
  const at = raw.indexOf('#');
  if (at >= 0) hash = raw.slice(at + 1);
  else if (/^https?:\/\//i.test(raw)) return { error: tr('app.tfImport.noHash') };
  const params = {};
  for (const pair of hash.split('&')) {
    if (!pair) continue;
    const i = pair.indexOf('=');
    let key;
    let value;
    try {
      key = decodeURIComponent(i < 0 ? pair : pair.slice(0, i)).trim();
      value = i < 0 ? '' : decodeURIComponent(pair.slice(i + 1).replace(/\+/g, ' ')).trim();
    } catch {
      return { error: tr('app.tfImport.cannotRead', { text: pair }) };
    }
    if (key) params[key] = value;
  }
  if (!Object.keys(params).length) return { error: tr('app.tfImport.noSettings') };
  const known = ['activation', 'dataset', 'networkShape', 'learningRate', 'problem', ...Object.keys(TF_FEATURES)];
  if (!known.some((k) => k in params)) return { error: tr('app.tfImport.notTf') };
  return { params };
}

/** TF Playground's seed is a string (Math.random().toFixed(5), e.g. "0.12345"): a whole number for ours. */
export function tfSeed(text) {
  const t = String(text ?? '').trim();
  if (/^\d+$/.test(t)) return Number(t) % 2 ** 31;
  const m = /^0?\.(\d{1,9})$/.exec(t);
  if (m) return Number(m[1]);
  // Any other string: FNV-1a, 31 bits.
  let h = 0x811c9dc5;
  for (let i = 0; i < t.length; i += 1) {
    h ^= t.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % 2 ** 31;
}

const bool = (v) => v === 'true' || v === '1';

function finite(text) {
  if (text === undefined || String(text).trim() === '') return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * TF Playground params -> {values, notes, warnings}: `values` holds the page's State values
 * (URL names: problem, dataset, noise, train_ratio, features, hidden, activation, lr, reg,
 * reg_rate, batch, loss, init, optimizer, batch_mode, seed, points, show_test, discretize, ...);
 * settings the link does not carry keep the defaults `catalog.defaults` implies (the caller
 * starts from a fresh State). `catalog` supplies the names this server knows and its limits.
 */
export function tfToValues(params, catalog = {}) {
  const values = {};
  const notes = [];
  const warnings = [];
  const limits = catalog.limits || {};
  const names = (list) => new Set((list || []).map((x) => x.name));
  const datasets = names(catalog.datasets);
  const features = names(catalog.features);
  const activations = names(catalog.activations);
  const has = (set, v) => set.size === 0 || set.has(v);

  // Problem first: it picks which data set key applies.
  const problem = params.problem === 'regression' ? 'regression' : 'classification';
  if (params.problem && !['classification', 'regression'].includes(params.problem)) {
    warnings.push(tr('app.tfImport.unknownProblem', { name: params.problem }));
  }
  values.problem = problem;

  const dsKey = problem === 'regression' ? 'regDataset' : 'dataset';
  const tfDataset = params[dsKey] ?? (problem === 'regression' ? 'reg-plane' : 'circle');
  const dataset = TF_DATASETS[tfDataset];
  if (dataset && has(datasets, dataset)) values.dataset = dataset;
  else {
    values.dataset = problem === 'regression' ? 'plane' : 'circle';
    warnings.push(tr('app.tfImport.unknownDataset', { name: tfDataset, dataset: values.dataset }));
  }
  values.classes = 2;
  values.val_ratio = 0;
  values.points = Math.min(TF_POINTS[problem], limits.max_points || Infinity);

  const noise = finite(params.noise);
  if (noise !== undefined) values.noise = Math.max(0, Math.min(50, noise));
  const perc = finite(params.percTrainData);
  if (perc !== undefined) {
    const ratio = Math.max(10, Math.min(90, Math.round(perc))) / 100;
    values.train_ratio = ratio;
    if (ratio * 100 !== perc) warnings.push(tr('app.tfImport.shareOutOfRange', { perc: String(perc), ratio: String(ratio * 100) }));
  }
  if (params.seed !== undefined && params.seed !== '') {
    values.seed = tfSeed(params.seed);
    notes.push(tr('app.tfImport.seed', { text: params.seed, seed: String(values.seed) }));
  }

  // Features: every key set to true, in the catalog's order.
  const on = [];
  for (const [tfKey, ours] of Object.entries(TF_FEATURES)) {
    if (!(tfKey in params) || !bool(params[tfKey])) continue;
    if (has(features, ours)) on.push(ours);
    else warnings.push(tr('app.tfImport.featureMissing', { key: tfKey, name: ours }));
  }
  const order = (catalog.features || []).map((f) => f.name);
  on.sort((a, b) => order.indexOf(a) - order.indexOf(b));
  if (on.length) values.features = on;
  else if (Object.keys(TF_FEATURES).some((k) => k in params)) {
    values.features = ['x1', 'x2'];
    warnings.push(tr('app.tfImport.noFeature'));
  }

  if ('networkShape' in params) {
    const text = params.networkShape.trim();
    const widths = text === '' ? [] : text.split(',').map((s) => Number(s.trim()));
    if (widths.every((w) => Number.isInteger(w) && w > 0)) {
      const maxN = limits.max_neurons || 8;
      const maxL = limits.max_hidden_layers || 6;
      let hidden = widths.map((w) => Math.min(w, maxN));
      if (hidden.length > maxL) hidden = hidden.slice(0, maxL);
      if (hidden.join() !== widths.join()) warnings.push(tr('app.tfImport.networkLimits', { wanted: widths.join(','), kept: hidden.join(',') }));
      values.hidden = hidden;
    } else warnings.push(tr('app.tfImport.badShape', { text }));
  }
  values.layer_act = null;

  if (params.activation) {
    if (has(activations, params.activation)) values.activation = params.activation;
    else warnings.push(tr('app.tfImport.unknownActivation', { name: params.activation }));
  }
  const lr = finite(params.learningRate);
  if (lr !== undefined && lr > 0) values.lr = lr;
  else if (params.learningRate !== undefined) warnings.push(tr('app.tfImport.badRate', { text: params.learningRate }));
  if (params.regularization !== undefined) {
    const reg = TF_REGULARIZATION[params.regularization];
    if (reg) values.reg = reg;
    else warnings.push(tr('app.tfImport.unknownRegularization', { name: params.regularization }));
  }
  const rr = finite(params.regularizationRate);
  if (rr !== undefined && rr >= 0) values.reg_rate = rr;
  const batch = finite(params.batchSize);
  if (batch !== undefined && Number.isInteger(batch) && batch >= 1) values.batch = batch;

  // Training as TF Playground does it: plain SGD on mini-batches, its initialisation and loss.
  values.optimizer = 'sgd';
  values.batch_mode = 'mini';
  values.init = bool(params.initZero) ? 'zeros' : 'tf';
  values.loss = problem === 'classification' ? 'tf_squared' : 'mse';
  notes.push(
    problem === 'classification'
      ? tr('app.tfImport.lossClassification')
      : tr('app.tfImport.lossRegression'),
  );
  if ('showTestData' in params) values.show_test = bool(params.showTestData);
  if ('discretize' in params) values.discretize = bool(params.discretize);
  const ignored = ['collectStats', 'hideText', 'tutorial'].filter((k) => k in params);
  if (ignored.length) notes.push(tr('app.tfImport.ignored', { keys: ignored.join(', ') }));
  return { values, notes, warnings };
}

/** One call: text -> {values, notes, warnings} or {error}. */
export function importTfLink(text, catalog) {
  const parsed = parseTfLink(text);
  if (parsed.error) return { error: parsed.error };
  return tfToValues(parsed.params, catalog);
}

/** Lines describing the mapped set-up, for the dialog's preview. */
export function describeValues(values) {
  const v = values;
  const lines = [];
  const noise = v.noise !== undefined ? tr('app.tfImport.noise', { noise: String(v.noise) }) : '';
  const share = v.train_ratio !== undefined ? tr('app.tfImport.share', { percent: String(Math.round(v.train_ratio * 100)) }) : '';
  lines.push(`${tr('app.tfImport.dataLine', { problem: v.problem, dataset: v.dataset })}${noise}${share}`);
  if (v.features) lines.push(tr('app.tfImport.features', { list: v.features.join(', ') }));
  if (v.hidden) lines.push(`${tr('app.tfImport.hidden', { list: v.hidden.join(', ') })}${v.activation ? `, ${v.activation}` : ''}`);
  else if (v.activation) lines.push(tr('app.tfImport.activation', { name: v.activation }));
  const train = [];
  if (v.lr !== undefined) train.push(tr('app.tfImport.rate', { rate: String(v.lr) }));
  if (v.batch !== undefined) train.push(tr('app.tfImport.batch', { n: String(v.batch) }));
  if (v.reg !== undefined) train.push(tr('app.tfImport.regularization', { name: `${v.reg}${v.reg !== 'none' && v.reg_rate !== undefined ? ` ${v.reg_rate}` : ''}` }));
  train.push(tr('app.tfImport.init', { name: v.init }));
  if (train.length) lines.push(train.join(', '));
  return lines;
}

export class TfImportDialog {
  /**
   * @param {object} catalog GET /api/catalog
   * @param {(values: object) => void} apply set the page to these State values
   */
  constructor(catalog, apply) {
    this.catalog = catalog;
    this.apply = apply;
    this.result = null;
    const $ = (id) => document.getElementById(id);
    this.dialog = $('tf-import');
    this.input = $('tf-import-url');
    this.preview = $('tf-import-preview');
    this.button = $('tf-import-apply');
    $('tf-import-open').addEventListener('click', () => this.open());
    $('tf-import-cancel').addEventListener('click', () => this.close());
    this.input.addEventListener('input', () => this.update());
    this.input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && !ev.shiftKey) {
        ev.preventDefault();
        this.commit();
      }
    });
    this.button.addEventListener('click', () => this.commit());
  }

  open() {
    if (typeof this.dialog.showModal === 'function') this.dialog.showModal();
    else this.dialog.setAttribute('open', '');
    this.input.focus();
    this.input.select();
    this.update();
  }

  close() {
    if (typeof this.dialog.close === 'function') this.dialog.close();
    else this.dialog.removeAttribute('open');
  }

  update() {
    const text = this.input.value;
    const item = (t, cls = '') => {
      const li = document.createElement('li');
      li.textContent = t;
      if (cls) li.className = cls;
      return li;
    };
    if (!text.trim()) {
      this.result = null;
      this.preview.replaceChildren();
      this.button.disabled = true;
      return;
    }
    const r = importTfLink(text, this.catalog);
    this.result = r.error ? null : r;
    this.button.disabled = Boolean(r.error);
    if (r.error) {
      this.preview.replaceChildren(item(r.error, 'error'));
      return;
    }
    this.preview.replaceChildren(
      ...describeValues(r.values).map((t) => item(t)),
      ...r.notes.map((t) => item(t, 'note')),
      ...r.warnings.map((t) => item(t, 'warn')),
    );
  }

  /** The language changed: the preview is written again. */
  relabel() {
    if (this.dialog.open) this.update();
  }

  commit() {
    this.update();
    if (!this.result) return;
    this.apply(this.result.values, this.result);
    this.close();
  }
}
