// NetworkDiagram's neuron maps: each hidden neuron's small map of its output over the plane,
// and the big map (with the training points) shown while hovering a neuron, feature or column.
// Mixed into NetworkDiagram (network.js).

import { t as tr } from './i18n.js';
import { drawPoints, featureMap, paintQuantized } from './paint.js';
import { formatWeight } from './weightedit.js';

const $ = (id) => document.getElementById(id);
/** Side of the small maps, in cells. */
export const MAP_RES = 20;

export const neuronMaps = {
  /** Offset of unit k of hidden layer i in the neurons section, or -1. */
  mapOffset(layer, unit) {
    const m = this.maps;
    if (!m) return -1;
    const res = m.resolution || MAP_RES;
    let index = 0;
    for (let i = 0; i < layer; i += 1) index += m.layers[i] ?? 0;
    if (layer >= m.layers.length || unit >= m.layers[layer]) return -1;
    return (index + unit) * res * res;
  },

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
  },

  // ---- the big map on hover ----

  hover(target) {
    if (target.kind === 'neuron' && !target.el.classList.contains('has-map')) return;
    this.hovered = target;
    this.paintHover();
  },

  unhover(el) {
    if (this.hovered && this.hovered.el === el) this.hideHover();
  },

  hideHover() {
    this.hovered = null;
    $('neuron-popup').hidden = true;
  },

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
  },

};
