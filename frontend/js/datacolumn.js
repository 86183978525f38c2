// Controls' left column (data): the data set buttons and the ratio, classes, noise, batch,
// points and seed controls. Mixed into Controls (controls.js), whose State they change.

import { drawSketch } from './datasetsketches.js';
import { formatPercent, t } from './i18n.js';
import { catalogLabel, catalogNote, formatNumber } from './menus.js';

const $ = (id) => document.getElementById(id);

export const dataColumn = {
  /** The data set buttons and the data sliders, bound to the State. */
  buildDataColumn() {
    const c = this.catalog;
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
  },

  /** A data set button's caption and tooltip. */
  labelDataset(btn, d) {
    const label = catalogLabel('datasets', d);
    btn.querySelector('span').textContent = label;
    const note = catalogNote('datasets', d) || (d.name === 'custom' ? t('app.data.customNote') : '');
    btn.title = note ? `${label}: ${note}` : label;
  },

  trainSize() {
    return Math.max(1, Math.round(this.state.get('points') * this.state.get('train_ratio')));
  },

  /** Show the State's data settings in the left column. */
  renderDataColumn() {
    const s = this.state;
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
  },
};
