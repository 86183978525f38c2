// Controls' course panels under the network: every training option of the course (init, batch
// norm, loss, optimiser hyperparameters, schedule, clipping, stopping). Mixed into Controls.

import { t } from './i18n.js';
import { catalogLabel, catalogNote, catalogTitle, fillSelect, selectValue } from './menus.js';
import { PROPS } from './state.js';

const $ = (id) => document.getElementById(id);

const PROP_BY_NAME = Object.fromEntries(PROPS.map((p) => [p.name, p]));

/** How the optimiser hyperparameters are labelled (wire name -> state name, label). */
export const HYPERPARAMS = {
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

export const courseOptions = {
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
  },

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
  },

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
  },

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
  },

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
  },

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
  },
};
