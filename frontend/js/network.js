// The middle column: input features as toggle chips, hidden layers as columns of neurons with
// +/- buttons, and the links between them drawn in an SVG behind, as TensorFlow Playground draws
// them but for any depth:
// - every link's colour and width show its weight (frame section `weights`: orange negative,
//   blue positive, width ∝ |w|); hovering a link shows its value, clicking it edits it
//   ({"type": "set_weight"} over the websocket, applied live); clicking a neuron edits its bias;
// - every hidden neuron shows a small map of its output over the plane (frame section `neurons`,
//   asked for with {"type": "views", "neurons": true}); input features show their own fixed maps;
//   hovering a neuron or a feature shows its map large, with the training points.

import { language, t as tr, tOr } from './i18n.js';
import { divergingColor, drawPoints, featureMap, paintQuantized } from './paint.js';

const $ = (id) => document.getElementById(id);
const SVG_NS = 'http://www.w3.org/2000/svg';
const MAP_RES = 20;

function button(className, text, attrs = {}) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = className;
  b.textContent = text;
  for (const [k, v] of Object.entries(attrs)) b.setAttribute(k, v);
  return b;
}

/** A weight as people read it: 3 significant digits, a real minus sign. */
export function formatWeight(w) {
  if (!Number.isFinite(w)) return String(w);
  const s = Math.abs(w) >= 100 ? w.toFixed(1) : Number(w.toPrecision(3)).toString();
  return (language() === 'es' ? s.replace('.', ',') : s).replace('-', '−');
}

/** TF Playground's link scales: width 0.6..7 px for |w| 0..5; colour orange..grey..blue over -1..1. */
function linkWidth(w) {
  return 0.6 + (Math.min(Math.abs(w), 5) / 5) * 6.4;
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

  /** Curves from every active input to every neuron of the next layer, and so on to the output. */
  drawLinks() {
    const origin = this.root.getBoundingClientRect();
    this.svg.setAttribute('width', String(origin.width));
    this.svg.setAttribute('height', String(origin.height));
    const port = (el, side) => {
      const r = el.getBoundingClientRect();
      return { x: (side === 'right' ? r.right : r.left) - origin.left, y: r.top + r.height / 2 - origin.top };
    };
    const inputs = this.columns
      ? [...$('features').querySelectorAll('.column-chip .swatch')]
      : [...$('features').querySelectorAll('.feature.active .swatch')];
    const columns = [inputs];
    for (const col of $('layers').children) columns.push([...col.querySelectorAll('.neuron')]);
    columns.push([$('output-neuron')]);

    const nodes = [];
    this.links = [];
    for (let c = 0; c + 1 < columns.length; c += 1) {
      columns[c].forEach((from, j) => {
        const a = port(from, 'right');
        columns[c + 1].forEach((to, k) => {
          const b = port(to, 'left');
          const mx = (a.x + b.x) / 2;
          const d = `M${a.x},${a.y} C${mx},${a.y} ${mx},${b.y} ${b.x},${b.y}`;
          const hit = document.createElementNS(SVG_NS, 'path');
          hit.setAttribute('d', d);
          hit.setAttribute('class', 'link-hit');
          const p = document.createElementNS(SVG_NS, 'path');
          p.setAttribute('d', d);
          p.setAttribute('class', 'link');
          const link = { layer: c, from: j, unit: k, path: p, hit, shown: '' };
          hit.dataset.link = String(this.links.length);
          p.dataset.testid = `link-${c}-${j}-${k}`;
          hit.dataset.testid = `link-hit-${c}-${j}-${k}`;
          this.links.push(link);
          nodes.push(hit, p);
        });
      });
    }
    this.svg.replaceChildren(...nodes);
    this.paintLinks();
  }

  /** Linear outputs of layer `layer` that belong to unit `unit` (2 for maxout; K classes at the output). */
  targets(layer, unit) {
    const w = this.weights?.layers[`W${layer}`];
    const hidden = this.state.get('hidden');
    if (!w) return [unit];
    const outs = w.shape[1];
    if (layer === hidden.length) return Array.from({ length: outs }, (_, k) => k); // output layer
    if (outs === 2 * hidden[layer]) return [2 * unit, 2 * unit + 1]; // maxout pairs
    return [unit];
  }

  /** W{layer}[from][to], or b{layer}[to] when `from` is null; undefined when not (yet) known. */
  weight(layer, from, to) {
    if (!this.weights) return undefined;
    const name = from === null || from === undefined ? `b${layer}` : `W${layer}`;
    const L = this.weights.layers[name];
    if (!L) return undefined;
    const cols = L.shape[L.shape.length - 1];
    const row = from === null || from === undefined ? 0 : from;
    if (row >= (L.shape.length > 1 ? L.shape[0] : 1) || to >= cols) return undefined;
    return this.weights.values[L.offset + row * cols + to];
  }

  /** Does the frame's weights layout fit the network drawn? (A frame of the old shape may still arrive.) */
  fits() {
    if (!this.weights) return false;
    const shape = this.shape();
    for (let i = 0; i < shape.length; i += 1) {
      const w = this.weights.layers[`W${i}`];
      if (!w || w.shape[0] !== shape[i]) return false;
    }
    return true;
  }

  /** Colour and width of every link from the newest weights (only attributes that changed). */
  paintLinks() {
    const ok = this.fits();
    for (const link of this.links) {
      let stroke = '';
      let width = '';
      if (ok) {
        const ts = this.targets(link.layer, link.unit);
        // Several outputs (classes, maxout pairs): the strongest one speaks for the link.
        let w = 0;
        for (const t of ts) {
          const v = this.weight(link.layer, link.from, t);
          if (v !== undefined && Math.abs(v) >= Math.abs(w)) w = v;
        }
        stroke = divergingColor(w);
        width = linkWidth(w).toFixed(2);
      }
      const shown = `${stroke}|${width}`;
      if (shown === link.shown) continue;
      link.shown = shown;
      if (stroke) {
        link.path.style.stroke = stroke;
        link.path.style.strokeWidth = width;
      } else {
        link.path.style.stroke = '';
        link.path.style.strokeWidth = '';
      }
    }
  }

  /** A decoded frame: take its weights and neuron maps (called at most once per animation frame). */
  setFrame(header, arrays) {
    if (header.weights && arrays.weights) {
      const layers = {};
      for (const l of header.weights.layers || []) layers[l.name] = l;
      this.weights = { layers, values: arrays.weights };
      if (this.editing) this.refreshEditor();
    }
    if (header.neurons && arrays.neurons) this.maps = { q: arrays.neurons, ...header.neurons };
    this.schedulePaint();
  }

  /** Links, maps and the big map follow the frames at most 10 times a second (the last one always). */
  schedulePaint() {
    const now = performance.now();
    const wait = 100 - (now - (this.lastPaint || 0));
    if (wait <= 0) {
      this.paintNow();
      return;
    }
    if (!this.paintTimer) this.paintTimer = setTimeout(() => this.paintNow(), wait);
  }

  paintNow() {
    clearTimeout(this.paintTimer);
    this.paintTimer = null;
    this.lastPaint = performance.now();
    this.paintLinks();
    this.paintMaps();
    if (this.hovered) this.paintHover();
  }

  /** Offset of unit k of hidden layer i in the neurons section, or -1. */
  mapOffset(layer, unit) {
    const m = this.maps;
    if (!m) return -1;
    const res = m.resolution || MAP_RES;
    let index = 0;
    for (let i = 0; i < layer; i += 1) index += m.layers[i] ?? 0;
    if (layer >= m.layers.length || unit >= m.layers[layer]) return -1;
    return (index + unit) * res * res;
  }

  paintMaps() {
    const m = this.maps;
    const hidden = this.state.get('hidden');
    if (!m || m.layers.length !== hidden.length || m.layers.some((u, i) => u !== hidden[i])) return;
    const res = m.resolution || MAP_RES;
    for (const neuron of $('layers').querySelectorAll('.neuron')) {
      const off = this.mapOffset(Number(neuron.dataset.layer), Number(neuron.dataset.unit));
      if (off < 0) continue;
      paintQuantized(neuron.firstChild, m.q, off, res);
      if (!neuron.classList.contains('has-map')) neuron.classList.add('has-map');
    }
    this.mapsDrawn = true;
  }

  // ---- the big map on hover ----

  hover(target) {
    if (target.kind === 'neuron' && !target.el.classList.contains('has-map')) return;
    this.hovered = target;
    this.paintHover();
  }

  unhover(el) {
    if (this.hovered && this.hovered.el === el) this.hideHover();
  }

  hideHover() {
    this.hovered = null;
    $('neuron-popup').hidden = true;
  }

  paintHover() {
    const h = this.hovered;
    if (!h || !h.el.isConnected) {
      this.hideHover();
      return;
    }
    const popup = $('neuron-popup');
    const canvas = $('neuron-popup-canvas');
    const small = this.popupSmall || (this.popupSmall = document.createElement('canvas'));
    let text;
    const extent = this.extent || [-6, 6];
    if (h.kind === 'neuron') {
      const off = this.mapOffset(h.layer, h.unit);
      if (off < 0) return;
      const res = this.maps.resolution || MAP_RES;
      paintQuantized(small, this.maps.q, off, res);
      const index = this.maps.layers.slice(0, h.layer).reduce((a, b) => a + b, 0) + h.unit;
      const scale = this.maps.scale?.[index];
      const biases = this.targets(h.layer, h.unit).map((t) => this.weight(h.layer, null, t)).filter((b) => b !== undefined);
      text = tr('app.network.neuronMap', { layer: String(h.layer + 1), unit: String(h.unit + 1) }) +
        (scale != null ? tr('app.network.largestOutput', { value: formatWeight(scale) }) : '') +
        (biases.length ? ` · ${tr('app.network.bias')} ${biases.map(formatWeight).join(' / ')}` : '');
      popup.dataset.kind = 'neuron';
      popup.dataset.layer = String(h.layer);
      popup.dataset.unit = String(h.unit);
    } else if (h.kind === 'column') {
      const map = this.columnMap(h.column);
      if (!map) return;
      paintQuantized(small, map.q, 0, MAP_RES);
      const p = this.plane || { x: 0, y: 1 };
      const role = h.column === p.x ? tr('app.network.planeX') : h.column === p.y ? tr('app.network.planeY') : tr('app.network.heldAtMean');
      text = tr('app.network.input', { name: h.label, role });
      popup.dataset.kind = 'column';
    } else {
      const map = featureMap(h.name, 40, extent);
      if (!map) return;
      paintQuantized(small, map.q, 0, 40);
      text = tr('app.network.input', { name: h.label, role: tr('app.network.fixedMap', { value: formatWeight(map.scale) }) });
      popup.dataset.kind = 'feature';
    }
    const size = canvas.width;
    const ctx = canvas.getContext('2d');
    ctx.imageSmoothingEnabled = true;
    ctx.clearRect(0, 0, size, size);
    ctx.drawImage(small, 0, 0, size, size);
    if (this.dataset) {
      ctx.globalAlpha = 0.9;
      drawPoints(ctx, this.dataset, { extent, problem: this.problem, value_range: this.valueRange }, size);
      ctx.globalAlpha = 1;
    }
    const label = $('neuron-popup-label');
    if (label.textContent !== text) label.textContent = text;
    if (popup.hidden) {
      popup.hidden = false;
      const r = h.el.getBoundingClientRect();
      const w = popup.offsetWidth;
      const left = r.right + 12 + w < window.innerWidth ? r.right + 12 : r.left - 12 - w;
      popup.style.left = `${Math.max(4, left)}px`;
      popup.style.top = `${Math.max(4, Math.min(window.innerHeight - popup.offsetHeight - 4, r.top - 80))}px`;
    }
  }

  // ---- links: hover shows the value, click edits it ----

  linkName(layer, from, unit) {
    const hidden = this.state.get('hidden');
    const src = layer === 0 ? this.inputName(from) : tr('app.network.unit', { layer: String(layer), unit: String(from + 1) });
    const dst = layer === hidden.length ? tr('app.network.output') : tr('app.network.unit', { layer: String(layer + 1), unit: String(unit + 1) });
    return `${src} → ${dst}`;
  }

  inputName(j) {
    const fallback = tr('app.network.inputN', { n: String(j + 1) });
    if (this.columns) return this.columns[j] ?? fallback;
    const name = this.state.get('features')[j];
    return this.catalog.features.find((f) => f.name === name)?.label || name || fallback;
  }

  /** Labels for the linear outputs of a unit (classes at the output, the two halves of maxout). */
  targetLabel(layer, t, count) {
    if (count <= 1) return '';
    return layer === this.state.get('hidden').length ? tr('app.chart.classN', { k: String(t) }) : tr('app.network.piece', { n: String((t % 2) + 1) });
  }

  bindLinkEvents() {
    const tip = $('link-tip');
    const linkOf = (ev) => {
      const i = ev.target?.dataset?.link;
      return i === undefined ? null : this.links[Number(i)];
    };
    this.svg.addEventListener('mouseover', (ev) => {
      const link = linkOf(ev);
      if (!link) return;
      link.path.classList.add('hover');
    });
    this.svg.addEventListener('mouseout', (ev) => {
      const link = linkOf(ev);
      if (link) link.path.classList.remove('hover');
      tip.hidden = true;
    });
    this.svg.addEventListener('mousemove', (ev) => {
      const link = linkOf(ev);
      if (!link) return;
      const ts = this.targets(link.layer, link.unit);
      const values = ts.map((t) => {
        const w = this.weight(link.layer, link.from, t);
        const lab = this.targetLabel(link.layer, t, ts.length);
        return `${lab ? `${lab} ` : ''}${w === undefined ? '–' : formatWeight(w)}`;
      });
      const name = this.linkName(link.layer, link.from, link.unit);
      tip.textContent = values.length > 1 ? `${name}: ${values.join(', ')}` : `${name}: w = ${values[0]}`;
      tip.dataset.layer = String(link.layer);
      tip.dataset.from = String(link.from);
      tip.dataset.to = String(link.unit);
      tip.hidden = false;
      tip.style.left = `${ev.clientX + 14}px`;
      tip.style.top = `${ev.clientY + 12}px`;
    });
    this.svg.addEventListener('click', (ev) => {
      const link = linkOf(ev);
      if (!link) return;
      tip.hidden = true;
      this.openEditor(ev, { layer: link.layer, from: link.from, to: link.unit });
    });
  }

  bindEditor() {
    const box = $('weight-edit');
    const input = $('weight-input');
    this.choice = document.createElement('select');
    this.choice.className = 'weight-choice';
    this.choice.dataset.testid = 'weight-choice';
    this.choice.hidden = true;
    box.insertBefore(this.choice, input);
    this.choice.addEventListener('change', () => this.refreshEditor(true));
    $('weight-set').addEventListener('click', () => this.commitEdit());
    input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter') this.commitEdit();
      if (ev.key === 'Escape') this.closeEditor();
    });
    document.addEventListener('mousedown', (ev) => {
      if (!box.hidden && !box.contains(ev.target) && !ev.target.closest?.('.link-hit, .neuron')) this.closeEditor();
    });
  }

  /** Show the small weight editor for W{layer}[from][unit] (from null: the bias) at the pointer. */
  openEditor(ev, { layer, from, to }) {
    if (!this.weights || !this.fits()) return;
    ev.stopPropagation?.();
    const ts = this.targets(layer, to);
    this.editing = { layer, from, unit: to, targets: ts };
    this.choice.replaceChildren(
      ...ts.map((t) => {
        const o = document.createElement('option');
        o.value = String(t);
        o.textContent = this.targetLabel(layer, t, ts.length);
        return o;
      }),
    );
    this.choice.hidden = ts.length <= 1;
    const label = $('weight-edit-label');
    const hidden = this.state.get('hidden');
    label.textContent =
      from === null
        ? tr('app.network.biasOf', {
            unit: layer === hidden.length ? tr('app.network.theOutput') : tr('app.network.unit', { layer: String(layer + 1), unit: String(to + 1) }),
          })
        : this.linkName(layer, from, to);
    const box = $('weight-edit');
    box.hidden = false;
    box.style.left = `${Math.min(window.innerWidth - box.offsetWidth - 8, ev.clientX + 8)}px`;
    box.style.top = `${ev.clientY + 10}px`;
    this.refreshEditor(true);
    $('weight-input').focus();
    $('weight-input').select();
  }

  /** Show the current value in the editor (unless the user is typing one). */
  refreshEditor(force = false) {
    const e = this.editing;
    if (!e) return;
    const input = $('weight-input');
    if (!force && input.dataset.dirty === 'true') return;
    const w = this.weight(e.layer, e.from, Number(this.choice.value || e.targets[0]));
    if (w !== undefined) input.value = String(Number(w.toPrecision(4)));
    input.dataset.dirty = 'false';
    input.oninput = () => {
      input.dataset.dirty = 'true';
    };
  }

  commitEdit() {
    const e = this.editing;
    if (!e) return;
    const input = $('weight-input');
    const value = Number(input.value);
    if (input.value.trim() === '' || !Number.isFinite(value) || Math.abs(value) > 1e6) {
      input.classList.add('invalid');
      return;
    }
    input.classList.remove('invalid');
    const to = Number(this.choice.value || e.targets[0]);
    this.hooks.setWeight?.({ type: 'set_weight', layer: e.layer, from: e.from, to, value });
    this.closeEditor();
  }

  closeEditor() {
    this.editing = null;
    $('weight-edit').hidden = true;
  }
}
