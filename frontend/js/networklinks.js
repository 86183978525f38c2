// NetworkDiagram's links and frames: the curves from every input to every neuron and on to the
// output, coloured and sized by the newest frame's weights; a frame's weights and neuron maps,
// painted at most 10 times a second. Mixed into NetworkDiagram (network.js).

import { divergingColor } from './paint.js';

const $ = (id) => document.getElementById(id);
const SVG_NS = 'http://www.w3.org/2000/svg';

/** TF Playground's link scales: width 0.6..7 px for |w| 0..5; colour orange..grey..blue over -1..1. */
function linkWidth(w) {
  return 0.6 + (Math.min(Math.abs(w), 5) / 5) * 6.4;
}

export const networkLinks = {
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
  },

  /** Linear outputs of layer `layer` that belong to unit `unit` (2 for maxout; K classes at the output). */
  targets(layer, unit) {
    const w = this.weights?.layers[`W${layer}`];
    const hidden = this.state.get('hidden');
    if (!w) return [unit];
    const outs = w.shape[1];
    if (layer === hidden.length) return Array.from({ length: outs }, (_, k) => k); // output layer
    if (outs === 2 * hidden[layer]) return [2 * unit, 2 * unit + 1]; // maxout pairs
    return [unit];
  },

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
  },

  /** Does the frame's weights layout fit the network drawn? (A frame of the old shape may still arrive.) */
  fits() {
    if (!this.weights) return false;
    const shape = this.shape();
    for (let i = 0; i < shape.length; i += 1) {
      const w = this.weights.layers[`W${i}`];
      if (!w || w.shape[0] !== shape[i]) return false;
    }
    return true;
  },

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
  },

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
  },

  /** Links, maps and the big map follow the frames at most 10 times a second (the last one always). */
  schedulePaint() {
    const now = performance.now();
    const wait = 100 - (now - (this.lastPaint || 0));
    if (wait <= 0) {
      this.paintNow();
      return;
    }
    if (!this.paintTimer) this.paintTimer = setTimeout(() => this.paintNow(), wait);
  },

  paintNow() {
    clearTimeout(this.paintTimer);
    this.paintTimer = null;
    this.lastPaint = performance.now();
    this.paintLinks();
    this.paintMaps();
    if (this.hovered) this.paintHover();
  },

};
