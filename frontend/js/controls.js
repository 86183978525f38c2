// Menus and sliders built from GET /api/catalog, bound to the page's State by wire names.
// A control changes the State, then reports the names it changed; the app sends them on.

import { courseOptions, HYPERPARAMS } from './courseoptions.js';
import { dataColumn } from './datacolumn.js';
import { formatFixed, t } from './i18n.js';
import { catalogLabel, catalogNote, fillSelect, formatNumber, selectValue } from './menus.js';

const $ = (id) => document.getElementById(id);

/** Top-bar menus filled from the catalog: select id -> catalog group. */
const TOP_MENUS = { activation: 'activations', optimizer: 'optimizers', regularization: 'regularizations', problem: 'problems' };

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

    this.buildDataColumn();

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

    this.renderDataColumn();

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

// The left column's and the course panels' methods live in their own modules.
Object.assign(Controls.prototype, dataColumn, courseOptions);
