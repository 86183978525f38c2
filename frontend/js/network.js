// The middle column: input features as toggle chips, hidden layers as columns of neurons with
// +/- buttons, and the links between them drawn in an SVG behind.

const $ = (id) => document.getElementById(id);
const SVG_NS = 'http://www.w3.org/2000/svg';

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
   * @param {{onChange: (names: string[]) => void}} hooks
   */
  constructor(catalog, state, hooks) {
    this.catalog = catalog;
    this.state = state;
    this.hooks = hooks;
    this.maxLayers = catalog.limits?.max_hidden_layers ?? 6;
    this.maxNeurons = catalog.limits?.max_neurons ?? 8;
    this.root = $('network');
    this.svg = $('links');
    this.buildFeatures();
    $('add-layer').addEventListener('click', () => this.editLayers((l) => l.length < this.maxLayers && l.push(2)));
    $('remove-layer').addEventListener('click', () => this.editLayers((l) => l.length > 0 && l.pop()));
    new ResizeObserver(() => this.drawLinks()).observe(this.root);
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
      const chip = button('feature', '', { 'data-testid': `feature-${f.name}`, 'data-value': f.name, title: f.note || f.label });
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      const label = document.createElement('span');
      label.className = 'feature-label';
      label.textContent = f.label;
      chip.append(label, swatch);
      chip.addEventListener('click', () => {
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

  render() {
    const features = new Set(this.state.get('features'));
    for (const chip of $('features').children) {
      const on = features.has(chip.dataset.value);
      chip.classList.toggle('active', on);
      chip.setAttribute('aria-pressed', String(on));
    }

    const layers = this.state.get('hidden');
    const n = layers.length;
    $('layers-count').textContent = `${n} hidden layer${n === 1 ? '' : 's'}`;
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
        title: 'Add a neuron',
        'aria-label': `Add a neuron to layer ${i + 1}`,
      });
      const minus = button('round-btn small', '−', {
        'data-testid': `remove-neuron-${i}`,
        title: 'Remove a neuron',
        'aria-label': `Remove a neuron from layer ${i + 1}`,
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
      label.textContent = `${width} neuron${width === 1 ? '' : 's'}`;
      head.append(buttons, label);
      const neurons = document.createElement('div');
      neurons.className = 'neurons';
      for (let k = 0; k < width; k += 1) {
        const neuron = document.createElement('div');
        neuron.className = 'neuron';
        neuron.title = `layer ${i + 1}, neuron ${k + 1}`;
        neurons.appendChild(neuron);
      }
      const act = document.createElement('select');
      act.className = 'layer-activation';
      act.dataset.testid = `layer-activation-${i}`;
      act.setAttribute('aria-label', `Activation of layer ${i + 1}`);
      for (const a of this.catalog.activations) {
        const o = document.createElement('option');
        o.value = a.name;
        o.textContent = a.label;
        if (a.note) o.title = a.note;
        act.appendChild(o);
      }
      act.value = acts[i];
      act.classList.toggle('own', acts[i] !== common);
      act.title = acts[i] !== common ? 'this layer has its own activation' : 'the common activation (top bar)';
      act.addEventListener('change', () => this.setLayerActivation(i, act.value));
      col.append(head, neurons, act);
      box.appendChild(col);
    });
    requestAnimationFrame(() => this.drawLinks());
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
    const columns = [[...$('features').querySelectorAll('.feature.active .swatch')]];
    for (const col of $('layers').children) columns.push([...col.querySelectorAll('.neuron')]);
    columns.push([$('output-neuron')]);

    const paths = [];
    for (let c = 0; c + 1 < columns.length; c += 1) {
      for (const from of columns[c]) {
        const a = port(from, 'right');
        for (const to of columns[c + 1]) {
          const b = port(to, 'left');
          const mx = (a.x + b.x) / 2;
          const p = document.createElementNS(SVG_NS, 'path');
          p.setAttribute('d', `M${a.x},${a.y} C${mx},${a.y} ${mx},${b.y} ${b.x},${b.y}`);
          p.setAttribute('class', 'link');
          paths.push(p);
        }
      }
    }
    this.svg.replaceChildren(...paths);
  }
}
