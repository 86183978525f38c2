// Your own data (docs/protocol.md, "Your own data, and data of more than two features"):
// - PointEditor: click on the plane to add a point of the chosen class (shift-click: the next
//   class; alt/ctrl-click: delete the nearest point), sent as add_point / remove_point;
// - CsvUpload: pick a CSV file, choose its label column, upload it to the session;
// - PlaneSelector: for data of more than two columns, which two columns (or PCA) the plane shows.

import { classColor } from './colours.js';
import { formatFixed, t } from './i18n.js';

const $ = (id) => document.getElementById(id);

/** Split one CSV line on commas, honouring double quotes ("a,b" and "" inside quotes). */
export function splitCsvLine(line) {
  const out = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i += 1) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i += 1;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  out.push(cur.trim());
  return out;
}

/** The header's columns, the number of data rows and a guess at the label column. */
export function inspectCsv(text) {
  const lines = String(text).replace(/^\uFEFF/, '').split(/\r?\n/).filter((l) => l.trim() !== '');
  if (!lines.length) return { columns: [], rows: 0, label: null };
  const columns = splitCsvLine(lines[0]);
  const named = columns.find((c) => /^(label|class|target|y|species|variety|pass(ed)?|outcome|result)$/i.test(c));
  // Else the last column whose values are not all numbers, else the last column.
  const sample = lines.slice(1, 50).map(splitCsvLine);
  const textual = columns.filter((_, j) => sample.some((r) => r[j] !== undefined && r[j] !== '' && !Number.isFinite(Number(r[j]))));
  const label = named || textual[textual.length - 1] || columns[columns.length - 1] || null;
  return { columns, rows: lines.length - 1, label };
}

export class PointEditor {
  /**
   * @param {{el: HTMLElement, send: (msg: object) => boolean, classes: () => number,
   *          problem: () => string, points: () => object|null, toast: (t: string) => void}} hooks
   *   points: the dataset message (train / test / validation parts, plane coordinates).
   */
  constructor(hooks) {
    this.hooks = hooks;
    this.el = hooks.el;
    this.on = false;
    this.label = 1;
    this.value = 1; // regression: the value a click adds
    this.enabled = true;
    $('draw-toggle').addEventListener('click', () => this.toggle());
    this.el.addEventListener('click', (ev) => this.click(ev));
    this.relabel();
  }

  /** The language changed (or the page starts): the button, picker and hint get their labels. */
  relabel() {
    $('draw-toggle').textContent = this.on ? t('app.draw.done') : t('app.draw.add');
    $('draw-picker').dataset.key = '';
    this.render();
  }

  /** Data of two columns only: drawing is off for tabular data of more. */
  setEnabled(enabled) {
    this.enabled = Boolean(enabled);
    if (!this.enabled && this.on) this.toggle();
    $('draw-tools').hidden = !this.enabled;
  }

  toggle() {
    this.on = !this.on;
    $('draw-toggle').setAttribute('aria-pressed', String(this.on));
    $('draw-toggle').textContent = this.on ? t('app.draw.done') : t('app.draw.add');
    this.el.classList.toggle('drawing', this.on);
    this.render();
  }

  /** The class picker (classification) or the value field (regression). */
  render() {
    const picker = $('draw-picker');
    picker.hidden = !this.on;
    $('draw-hint').hidden = !this.on;
    if (!this.on) return;
    const regression = this.hooks.problem() === 'regression';
    const k = Math.max(2, this.hooks.classes() || 2);
    const key = regression ? 'regression' : `k${k}`;
    if (this.label >= k) this.label = 0;
    if (picker.dataset.key !== key) {
      picker.dataset.key = key;
      if (regression) {
        const label = document.createElement('label');
        label.textContent = `${t('app.draw.value')} `;
        const input = document.createElement('input');
        input.type = 'number';
        input.step = '0.1';
        input.value = String(this.value);
        input.dataset.testid = 'draw-value';
        input.addEventListener('change', () => {
          const v = Number(input.value);
          if (Number.isFinite(v)) this.value = v;
        });
        label.appendChild(input);
        picker.replaceChildren(label);
        $('draw-hint').textContent = t('app.draw.hintRegression');
      } else {
        picker.replaceChildren(
          ...Array.from({ length: k }, (_, c) => {
            const b = document.createElement('button');
            b.type = 'button';
            b.className = 'class-chip';
            b.style.background = classColor(c);
            b.title = t('app.draw.addClass', { k: String(c) });
            b.dataset.testid = `draw-class-${c}`;
            b.dataset.value = String(c);
            b.setAttribute('role', 'radio');
            b.addEventListener('click', () => {
              this.label = c;
              this.render();
            });
            return b;
          }),
        );
        $('draw-hint').textContent = t('app.draw.hintClasses');
      }
    }
    for (const b of picker.querySelectorAll('.class-chip')) b.setAttribute('aria-checked', String(Number(b.dataset.value) === this.label));
  }

  /** Pixel -> plane coordinates through plotly's axes; null outside the plot area. */
  toData(ev) {
    const fl = this.el._fullLayout;
    if (!fl || !fl.xaxis || !fl.yaxis) return null;
    const xa = fl.xaxis;
    const ya = fl.yaxis;
    const rect = this.el.getBoundingClientRect();
    const px = ev.clientX - rect.left - xa._offset;
    const py = ev.clientY - rect.top - ya._offset;
    if (px < 0 || py < 0 || px > xa._length || py > ya._length) return null;
    const [x0, x1] = xa.range;
    const [y0, y1] = ya.range;
    return { x: x0 + (px / xa._length) * (x1 - x0), y: y1 - (py / ya._length) * (y1 - y0) };
  }

  /** The nearest point of the data set to (x, y) and its distance. */
  nearest(x, y) {
    const d = this.hooks.points();
    let best = null;
    for (const part of ['train', 'validation', 'test']) {
      for (const p of d?.[part]?.x || []) {
        const dist = Math.hypot(p[0] - x, p[1] - y);
        if (!best || dist < best.dist) best = { x: p[0], y: p[1], dist };
      }
    }
    return best;
  }

  click(ev) {
    if (!this.on || !this.enabled) return;
    const at = this.toData(ev);
    if (!at) return;
    const round = (v) => Number(v.toFixed(3));
    if (ev.altKey || ev.ctrlKey || ev.metaKey) {
      const near = this.nearest(at.x, at.y);
      if (!near || near.dist > 0.5) {
        this.hooks.toast(t('app.draw.nothingNear'));
        return;
      }
      this.hooks.send({ type: 'remove_point', x: near.x, y: near.y });
      return;
    }
    let label;
    if (this.hooks.problem() === 'regression') label = ev.shiftKey ? -this.value : this.value;
    else {
      const k = Math.max(2, this.hooks.classes() || 2);
      label = ev.shiftKey ? (this.label + 1) % k : this.label;
    }
    this.hooks.send({ type: 'add_point', x: round(at.x), y: round(at.y), label });
  }
}

export class CsvUpload {
  /**
   * @param {{upload: (text: string, opts: {label: string, standardize: boolean}) => Promise<object>,
   *          maxBytes: number}} hooks
   */
  constructor(hooks) {
    this.hooks = hooks;
    this.text = null;
    this.name = '';
    $('csv-file').addEventListener('change', () => this.read());
    $('csv-upload').addEventListener('click', () => this.upload());
  }

  /** The result line; `text` may be a function, written again when the language changes. */
  show(text, level = 'info') {
    const el = $('csv-result');
    this.text_ = text;
    el.textContent = typeof text === 'function' ? text() : text;
    el.dataset.level = level;
  }

  relabel() {
    if (this.text_) this.show(this.text_, $('csv-result').dataset.level);
    if (this.meta) $('csv-meta').textContent = this.meta();
  }

  async read() {
    const file = $('csv-file').files?.[0];
    this.text = null;
    $('upload-options').hidden = true;
    if (!file) return;
    if (this.hooks.maxBytes && file.size > this.hooks.maxBytes) {
      const mb = (n) => formatFixed(n / 1e6, 1);
      this.show(() => t('app.upload.tooLarge', { name: file.name, size: mb(file.size), limit: mb(this.hooks.maxBytes) }), 'error');
      return;
    }
    const text = await file.text();
    const info = inspectCsv(text);
    if (info.columns.length < 2) {
      this.show(() => t('app.upload.needsHeader'), 'error');
      return;
    }
    this.text = text;
    this.name = file.name;
    this.rows = info.rows;
    const select = $('csv-label');
    select.replaceChildren(
      ...info.columns.map((c) => {
        const o = document.createElement('option');
        o.value = c;
        o.textContent = c;
        return o;
      }),
    );
    select.value = info.label ?? info.columns[info.columns.length - 1];
    this.meta = () => t('app.upload.meta', { rows: String(info.rows), n: String(info.columns.length), columns: info.columns.join(', ') });
    $('csv-meta').textContent = this.meta();
    $('upload-options').hidden = false;
    this.show('');
  }

  async upload() {
    if (!this.text) return;
    const label = $('csv-label').value;
    const standardize = $('csv-standardize').checked;
    $('csv-upload').disabled = true;
    const name = this.name;
    const rows = this.rows;
    this.show(() => t('app.upload.uploading', { name }));
    try {
      const res = await this.hooks.upload(this.text, { label, standardize });
      this.show(() => t('app.upload.uploaded', { name, rows: String(rows), label }), 'ok');
    } catch (err) {
      // The server's messages name the line and column already: no need for its loc.
      const msgs = Array.isArray(err.detail) ? err.detail.map((d) => d.msg).filter(Boolean).join('\n') : '';
      const why = () => (err.status === 413 ? t('app.upload.tooLargeServer', { message: err.message }) : msgs || err.message);
      this.show(() => t('app.upload.refused', { status: err.status ? ` (${err.status})` : '', why: why() }), 'error');
    } finally {
      $('csv-upload').disabled = false;
    }
  }
}

export class PlaneSelector {
  /** @param {{send: (plane: object) => void}} hooks */
  constructor(hooks) {
    this.hooks = hooks;
    this.columns = null;
    this.plane = { mode: 'features', x: 0, y: 1 };
    for (const id of ['plane-mode', 'plane-x', 'plane-y']) $(id).addEventListener('change', () => this.changed(id));
  }

  /** A dataset message: show the selector for data of more than two columns. */
  setDataset(msg) {
    const cols = msg?.columns && msg.columns.length > 2 ? msg.columns : null;
    $('plane-select').hidden = !cols;
    this.columns = cols;
    if (!cols) return;
    if (msg.plane) this.plane = { mode: msg.plane.mode || 'features', x: msg.plane.x ?? 0, y: msg.plane.y ?? 1 };
    for (const id of ['plane-x', 'plane-y']) {
      const sel = $(id);
      if (sel.dataset.key !== cols.join('|')) {
        sel.dataset.key = cols.join('|');
        sel.replaceChildren(
          ...cols.map((c, j) => {
            const o = document.createElement('option');
            o.value = String(j);
            o.textContent = c;
            return o;
          }),
        );
      }
    }
    this.show();
  }

  show() {
    $('plane-mode').value = this.plane.mode;
    $('plane-x').value = String(this.plane.x);
    $('plane-y').value = String(this.plane.y);
    const pca = this.plane.mode === 'pca';
    for (const el of document.querySelectorAll('#plane-select .plane-axis, #plane-select .plane-note')) el.hidden = pca;
  }

  /** The plane's axis names: two columns, or the principal components. */
  titles() {
    if (!this.columns) return null;
    if (this.plane.mode === 'pca') return ['PC 1', 'PC 2'];
    return [this.columns[this.plane.x] ?? 'x', this.columns[this.plane.y] ?? 'y'];
  }

  changed(id) {
    const mode = $('plane-mode').value;
    let x = Number($('plane-x').value);
    let y = Number($('plane-y').value);
    if (mode === 'features' && x === y) {
      // Two different columns: move the other axis out of the way.
      if (id === 'plane-x') y = x === 0 ? 1 : 0;
      else x = y === 0 ? 1 : 0;
    }
    this.plane = mode === 'pca' ? { mode: 'pca', x: this.plane.x, y: this.plane.y } : { mode, x, y };
    this.show();
    this.hooks.send(mode === 'pca' ? { mode: 'pca' } : { mode, x, y });
  }
}
