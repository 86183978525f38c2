// NetworkDiagram's weight editing: hovering a link shows its weight, clicking a link or a neuron
// opens the small editor that sends {"type": "set_weight"}. Mixed into NetworkDiagram (network.js).

import { language, t as tr } from './i18n.js';

const $ = (id) => document.getElementById(id);

/** A weight as people read it: 3 significant digits, a real minus sign. */
export function formatWeight(w) {
  if (!Number.isFinite(w)) return String(w);
  const s = Math.abs(w) >= 100 ? w.toFixed(1) : Number(w.toPrecision(3)).toString();
  return (language() === 'es' ? s.replace('.', ',') : s).replace('-', '−');
}

export const weightEditing = {
  linkName(layer, from, unit) {
    const hidden = this.state.get('hidden');
    const src = layer === 0 ? this.inputName(from) : tr('app.network.unit', { layer: String(layer), unit: String(from + 1) });
    const dst = layer === hidden.length ? tr('app.network.output') : tr('app.network.unit', { layer: String(layer + 1), unit: String(unit + 1) });
    return `${src} → ${dst}`;
  },

  inputName(j) {
    const fallback = tr('app.network.inputN', { n: String(j + 1) });
    if (this.columns) return this.columns[j] ?? fallback;
    const name = this.state.get('features')[j];
    return this.catalog.features.find((f) => f.name === name)?.label || name || fallback;
  },

  /** Labels for the linear outputs of a unit (classes at the output, the two halves of maxout). */
  targetLabel(layer, t, count) {
    if (count <= 1) return '';
    return layer === this.state.get('hidden').length ? tr('app.chart.classN', { k: String(t) }) : tr('app.network.piece', { n: String((t % 2) + 1) });
  },

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
  },

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
  },

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
  },

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
  },

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
  },

  closeEditor() {
    this.editing = null;
    $('weight-edit').hidden = true;
  },
};
