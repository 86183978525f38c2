// Import a TensorFlow Playground link (playground.tensorflow.org/#activation=tanh&batchSize=10&...)
// as this playground's set-up, so teachers' existing links keep working. The mapping is pure
// (no DOM): parseTfLink(text) -> {key: raw value}, tfToValues(params, catalog) -> the page's
// State values (URL / wire names, see state.js) plus notes and warnings. TfImportDialog wires
// the dialog in index.html.

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
  if (!raw) return { error: 'paste a TensorFlow Playground link' };
  let hash = raw;
  const at = raw.indexOf('#');
  if (at >= 0) hash = raw.slice(at + 1);
  else if (/^https?:\/\//i.test(raw)) return { error: 'the link has no #… part with the settings' };
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
      return { error: `cannot read "${pair}"` };
    }
    if (key) params[key] = value;
  }
  if (!Object.keys(params).length) return { error: 'no settings found in the link' };
  const known = ['activation', 'dataset', 'networkShape', 'learningRate', 'problem', ...Object.keys(TF_FEATURES)];
  if (!known.some((k) => k in params)) return { error: 'this does not look like a TensorFlow Playground link' };
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
    warnings.push(`unknown problem "${params.problem}": classification`);
  }
  values.problem = problem;

  const dsKey = problem === 'regression' ? 'regDataset' : 'dataset';
  const tfDataset = params[dsKey] ?? (problem === 'regression' ? 'reg-plane' : 'circle');
  const dataset = TF_DATASETS[tfDataset];
  if (dataset && has(datasets, dataset)) values.dataset = dataset;
  else {
    values.dataset = problem === 'regression' ? 'plane' : 'circle';
    warnings.push(`unknown data set "${tfDataset}": ${values.dataset}`);
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
    if (ratio * 100 !== perc) warnings.push(`training share ${perc}% is out of range: ${ratio * 100}%`);
  }
  if (params.seed !== undefined && params.seed !== '') {
    values.seed = tfSeed(params.seed);
    notes.push(`seed "${params.seed}" → ${values.seed} (the points are drawn by this server's generator, so they differ)`);
  }

  // Features: every key set to true, in the catalog's order.
  const on = [];
  for (const [tfKey, ours] of Object.entries(TF_FEATURES)) {
    if (!(tfKey in params) || !bool(params[tfKey])) continue;
    if (has(features, ours)) on.push(ours);
    else warnings.push(`feature ${tfKey} (${ours}) is not offered by this server: left out`);
  }
  const order = (catalog.features || []).map((f) => f.name);
  on.sort((a, b) => order.indexOf(a) - order.indexOf(b));
  if (on.length) values.features = on;
  else if (Object.keys(TF_FEATURES).some((k) => k in params)) {
    values.features = ['x1', 'x2'];
    warnings.push('no input feature was on; at least one is needed: X₁ and X₂');
  }

  if ('networkShape' in params) {
    const text = params.networkShape.trim();
    const widths = text === '' ? [] : text.split(',').map((s) => Number(s.trim()));
    if (widths.every((w) => Number.isInteger(w) && w > 0)) {
      const maxN = limits.max_neurons || 8;
      const maxL = limits.max_hidden_layers || 6;
      let hidden = widths.map((w) => Math.min(w, maxN));
      if (hidden.length > maxL) hidden = hidden.slice(0, maxL);
      if (hidden.join() !== widths.join()) warnings.push(`network ${widths.join(',')} exceeds the limits: ${hidden.join(',')}`);
      values.hidden = hidden;
    } else warnings.push(`cannot read networkShape "${text}": kept 4,2`);
  }
  values.layer_act = null;

  if (params.activation) {
    if (has(activations, params.activation)) values.activation = params.activation;
    else warnings.push(`unknown activation "${params.activation}": kept tanh`);
  }
  const lr = finite(params.learningRate);
  if (lr !== undefined && lr > 0) values.lr = lr;
  else if (params.learningRate !== undefined) warnings.push(`cannot read learningRate "${params.learningRate}"`);
  if (params.regularization !== undefined) {
    const reg = TF_REGULARIZATION[params.regularization];
    if (reg) values.reg = reg;
    else warnings.push(`unknown regularization "${params.regularization}": none`);
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
      ? 'loss: TF Playground\'s tanh output with squared error on ±1 labels (tf_squared)'
      : 'loss: squared error on a linear output (mse)',
  );
  if ('showTestData' in params) values.show_test = bool(params.showTestData);
  if ('discretize' in params) values.discretize = bool(params.discretize);
  const ignored = ['collectStats', 'hideText', 'tutorial'].filter((k) => k in params);
  if (ignored.length) notes.push(`ignored (display only): ${ignored.join(', ')}`);
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
  lines.push(`${v.problem}: data set ${v.dataset}${v.noise !== undefined ? `, noise ${v.noise}` : ''}` +
    `${v.train_ratio !== undefined ? `, ${Math.round(v.train_ratio * 100)}% training` : ''}`);
  if (v.features) lines.push(`features ${v.features.join(', ')}`);
  if (v.hidden) lines.push(`hidden layers [${v.hidden.join(', ')}]${v.activation ? `, ${v.activation}` : ''}`);
  else if (v.activation) lines.push(`activation ${v.activation}`);
  const train = [];
  if (v.lr !== undefined) train.push(`learning rate ${v.lr}`);
  if (v.batch !== undefined) train.push(`batch ${v.batch}`);
  if (v.reg !== undefined) train.push(`regularisation ${v.reg}${v.reg !== 'none' && v.reg_rate !== undefined ? ` ${v.reg_rate}` : ''}`);
  train.push(`init ${v.init}`);
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

  commit() {
    this.update();
    if (!this.result) return;
    this.apply(this.result.values, this.result);
    this.close();
  }
}
