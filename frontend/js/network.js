// The middle column: input features as toggle chips, hidden layers as columns of neurons with
// +/- buttons, and the links between them drawn in an SVG behind, as TensorFlow Playground draws
// them but for any depth:
// - every link's colour and width show its weight (frame section `weights`: orange negative,
//   blue positive, width ∝ |w|); hovering a link shows its value, clicking it edits it
//   ({"type": "set_weight"} over the websocket, applied live); clicking a neuron edits its bias;
// - every hidden neuron shows a small map of its output over the plane (frame section `neurons`,
//   asked for with {"type": "views", "neurons": true}); input features show their own fixed maps;
//   hovering a neuron or a feature shows its map large, with the training points.

import { t as tr, tOr } from './i18n.js';
import { networkLinks } from './networklinks.js';
import { MAP_RES, neuronMaps } from './neuronmaps.js';
import { featureMap, paintQuantized } from './paint.js';
import { weightEditing } from './weightedit.js';

const $ = (id) => document.getElementById(id);

function button(className, text, attrs = {}) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = className;
  b.textContent = text;
  for (const [k, v] of Object.entries(attrs)) b.setAttribute(k, v);
  return b;
}

export class NetworkDiagram {
  /**
   * @param {object} catalog GET /api/catalog (features, limits)
   * @param {import('./state.js').State} state
   * @param {{onChange: (names: string[]) => void, setWeight?: (edit: object) => boolean}} hooks
   */
  constructor(catalog, state, hooks) {
    this.catalog = catalog;
    this.state = state;
    this.hooks = hooks;
    this.maxLayers = catalog.limits?.max_hidden_layers ?? 6;
    this.maxNeurons = catalog.limits?.max_neurons ?? 8;
    this.root = $('network');
    this.svg = $('links');
    this.links = []; // {layer, from, to: [linear outputs], path, hit, shown}
    this.weights = null; // {layers: {W0: {shape, offset}...}, values: Float32Array}
    this.maps = null; // {q: Uint8Array, layers: [units], scale: [m], resolution}
    this.columns = null; // data columns (d > 2 data) instead of features, or null
    this.dataset = null; // training points for the big map
    this.hovered = null; // {kind: 'neuron'|'feature', layer, unit, el}
    this.editing = null;
    this.buildFeatures();
    $('add-layer').addEventListener('click', () => this.editLayers((l) => l.length < this.maxLayers && l.push(2)));
    $('remove-layer').addEventListener('click', () => this.editLayers((l) => l.length > 0 && l.pop()));
    new ResizeObserver(() => this.drawLinks()).observe(this.root);
    this.bindLinkEvents();
    this.bindEditor();
    this.render();
  }

  /** Apply `edit` to a copy of the hidden layers; report a change when it returns truthy. */
  editLayers(edit) {
    const layers = this.state.get('hidden');
    if (!edit(layers)) return;
    const names = ['hidden'];
    // Per-layer activations keep one entry per layer: a new layer takes the common activation.
    const per = this.state.get('layer_act');
    if (per !== null) {
      const next = layers.map((_, i) => per[i] ?? this.state.get('activation'));
      this.state.set('layer_act', next.every((a) => a === this.state.get('activation')) ? null : next);
      names.push('layer_act');
    }
    this.state.set('hidden', layers);
    this.render();
    this.hooks.onChange(names);
  }

  /** The activation of each hidden layer. */
  activations() {
    const n = this.state.get('hidden').length;
    const per = this.state.get('layer_act');
    return per && per.length === n ? per : Array(n).fill(this.state.get('activation'));
  }

  /** One layer's own activation; all equal to the common one means none of their own (null). */
  setLayerActivation(i, name) {
    const acts = this.activations();
    acts[i] = name;
    const common = this.state.get('activation');
    this.state.set('layer_act', acts.every((a) => a === common) ? null : acts);
    this.render();
    this.hooks.onChange(['layer_act']);
  }

  buildFeatures() {
    const box = $('features');
    box.replaceChildren();
    for (const f of this.catalog.features) {
      const chip = button('feature', '', { 'data-testid': `feature-${f.name}`, 'data-value': f.name, title: f.note ? tOr(`catalogNote.features.${f.name}`, f.note) : f.label });
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      const map = featureMap(f.name, MAP_RES);
      if (map) {
        const canvas = document.createElement('canvas');
        canvas.className = 'map';
        paintQuantized(canvas, map.q, 0, MAP_RES);
        swatch.appendChild(canvas);
        swatch.dataset.feature = f.name;
        swatch.addEventListener('mouseenter', () => this.hover({ kind: 'feature', name: f.name, label: f.label, el: swatch }));
        swatch.addEventListener('mouseleave', () => this.unhover(swatch));
      }
      const label = document.createElement('span');
      label.className = 'feature-label';
      label.textContent = f.label;
      chip.append(label, swatch);
      chip.addEventListener('click', () => {
        if (this.columns) return; // d > 2 data: its columns are the inputs
        const on = new Set(this.state.get('features'));
        if (on.has(f.name)) {
          if (on.size === 1) return; // the server needs at least one input
          on.delete(f.name);
        } else on.add(f.name);
        // Catalog order, as the server stores them.
        this.state.set('features', this.catalog.features.map((x) => x.name).filter((n) => on.has(n)));
        this.render();
        this.hooks.onChange(['features']);
      });
      box.appendChild(chip);
    }
  }

  /**
   * Data of more than two columns: the inputs are its columns (names), not the features; null
   * goes back to the feature chips.
   */
  setColumns(columns) {
    const next = columns && columns.length ? [...columns] : null;
    if (JSON.stringify(next) === JSON.stringify(this.columns)) return;
    this.columns = next;
    const box = $('features');
    box.querySelectorAll('.column-chip').forEach((el) => el.remove());
    for (const chip of box.querySelectorAll('.feature:not(.column-chip)')) chip.hidden = Boolean(next);
    if (next) {
      next.forEach((name, j) => {
        const chip = button('feature active column-chip', '', { 'data-testid': `column-${j}`, title: tr('app.network.dataColumn', { name }) });
        const label = document.createElement('span');
        label.className = 'feature-label';
        label.textContent = name;
        const swatch = document.createElement('span');
        swatch.className = 'swatch';
        const canvas = document.createElement('canvas');
        canvas.className = 'map';
        swatch.appendChild(canvas);
        swatch.addEventListener('mouseenter', () => this.hover({ kind: 'column', column: j, label: name, el: swatch }));
        swatch.addEventListener('mouseleave', () => this.unhover(swatch));
        chip.append(label, swatch);
        box.appendChild(chip);
      });
    }
    this.paintColumns();
    this.render();
  }

  /** Which columns the plane shows ({mode, x, y}); their chips then show x₁ / x₂ maps. */
  setPlane(plane) {
    this.plane = plane ? { ...plane } : null;
    this.paintColumns();
  }

  /** A data column over the plane: the plane's x or y, else flat (held at its mean); PCA: mixed. */
  columnMap(j) {
    const p = this.plane || { mode: 'features', x: 0, y: 1 };
    if (p.mode !== 'features') return null;
    if (j === p.x) return featureMap('x1', MAP_RES);
    if (j === p.y) return featureMap('x2', MAP_RES);
    return { q: new Uint8Array(MAP_RES * MAP_RES).fill(128), scale: 0 };
  }

  paintColumns() {
    if (!this.columns) return;
    $('features').querySelectorAll('.column-chip canvas.map').forEach((canvas, j) => {
      const map = this.columnMap(j);
      if (map) paintQuantized(canvas, map.q, 0, MAP_RES);
      else canvas.getContext('2d').clearRect(0, 0, canvas.width, canvas.height);
      canvas.hidden = !map;
    });
  }

  /** The training points drawn on the big maps ({x: [[a, b]...], y: [...]}) and their range. */
  setDataset(dataset, problem) {
    this.dataset = dataset;
    this.problem = problem;
  }

  render() {
    const features = new Set(this.state.get('features'));
    for (const chip of $('features').querySelectorAll('.feature:not(.column-chip)')) {
      const on = features.has(chip.dataset.value);
      chip.classList.toggle('active', on);
      chip.setAttribute('aria-pressed', String(on));
    }

    const layers = this.state.get('hidden');
    const n = layers.length;
    $('layers-count').textContent = tr(n === 1 ? 'app.network.hiddenLayer' : 'app.network.hiddenLayers', { n: String(n) });
    $('add-layer').disabled = n >= this.maxLayers;
    $('remove-layer').disabled = n === 0;

    const box = $('layers');
    box.replaceChildren();
    const acts = this.activations();
    const common = this.state.get('activation');
    layers.forEach((width, i) => {
      const col = document.createElement('div');
      col.className = 'net-col layer-col';
      col.dataset.testid = `layer-${i}`;
      const head = document.createElement('div');
      head.className = 'layer-head';
      const plus = button('round-btn small', '+', {
        'data-testid': `add-neuron-${i}`,
        title: tr('app.network.addNeuron'),
        'aria-label': tr('app.network.addNeuronTo', { n: String(i + 1) }),
      });
      const minus = button('round-btn small', '−', {
        'data-testid': `remove-neuron-${i}`,
        title: tr('app.network.removeNeuron'),
        'aria-label': tr('app.network.removeNeuronFrom', { n: String(i + 1) }),
      });
      plus.disabled = width >= this.maxNeurons;
      minus.disabled = width <= 1;
      plus.addEventListener('click', () => this.editLayers((l) => l[i] < this.maxNeurons && ++l[i]));
      minus.addEventListener('click', () => this.editLayers((l) => l[i] > 1 && l[i]--));
      const buttons = document.createElement('div');
      buttons.className = 'layer-buttons';
      buttons.append(plus, minus);
      const label = document.createElement('div');
      label.className = 'layer-label';
      label.textContent = tr(width === 1 ? 'app.network.neuron' : 'app.network.neurons', { n: String(width) });
      head.append(buttons, label);
      const neurons = document.createElement('div');
      neurons.className = 'neurons';
      for (let k = 0; k < width; k += 1) {
        const neuron = document.createElement('div');
        neuron.className = 'neuron';
        neuron.title = tr('app.network.neuronTitle', { layer: String(i + 1), unit: String(k + 1) });
        neuron.dataset.testid = `neuron-${i}-${k}`;
        neuron.dataset.layer = String(i);
        neuron.dataset.unit = String(k);
        const canvas = document.createElement('canvas');
        canvas.className = 'map';
        canvas.width = MAP_RES;
        canvas.height = MAP_RES;
        neuron.appendChild(canvas);
        neuron.addEventListener('mouseenter', () => this.hover({ kind: 'neuron', layer: i, unit: k, el: neuron }));
        neuron.addEventListener('mouseleave', () => this.unhover(neuron));
        neuron.addEventListener('click', (ev) => this.openEditor(ev, { layer: i, from: null, to: k }));
        neurons.appendChild(neuron);
      }
      const act = document.createElement('select');
      act.className = 'layer-activation';
      act.dataset.testid = `layer-activation-${i}`;
      act.setAttribute('aria-label', tr('app.network.layerActivation', { n: String(i + 1) }));
      for (const a of this.catalog.activations) {
        const o = document.createElement('option');
        o.value = a.name;
        o.textContent = tOr(`catalog.activations.${a.name}`, a.label);
        if (a.note) o.title = tOr(`catalogNote.activations.${a.name}`, a.note);
        act.appendChild(o);
      }
      act.value = acts[i];
      act.classList.toggle('own', acts[i] !== common);
      act.title = acts[i] !== common ? tr('app.network.ownActivation') : tr('app.network.commonActivation');
      act.addEventListener('change', () => this.setLayerActivation(i, act.value));
      col.append(head, neurons, act);
      box.appendChild(col);
    });
    const out = $('output-neuron');
    if (!out.dataset.bound) {
      out.dataset.bound = 'true';
      out.addEventListener('click', (ev) => this.openEditor(ev, { layer: this.state.get('hidden').length, from: null, to: 0 }));
    }
    this.hideHover();
    this.mapsDrawn = false;
    requestAnimationFrame(() => {
      this.drawLinks();
      this.paintMaps();
    });
  }

  /** Units of each layer's input: the active inputs, then each hidden layer's width. */
  shape() {
    const inputs = this.columns ? this.columns.length : this.state.get('features').length;
    return [inputs, ...this.state.get('hidden')];
  }
}

// The links, the neuron maps and weight editing live in their own modules.
Object.assign(NetworkDiagram.prototype, networkLinks, neuronMaps, weightEditing);
