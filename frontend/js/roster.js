// The teacher dashboard's roster: one card per student (nickname, a thumbnail of their decision
// boundary, epoch, test loss, accuracy) and the leaderboard, both redrawn from each roster frame
// of /ws/rooms/{code} (docs/protocol.md, Rooms). Cards are kept per session and updated in place.

import { PALETTE } from './colours.js';
import { formatNumber, t } from './i18n.js';
import { DIVERGING_LUT } from './paint.js';

const THUMB = 32;

function rgbOf(hex) {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}
const PALETTE_RGB = PALETTE.map(rgbOf);

/**
 * Paint thumbnail `index` of the (k, 32, 32) uint8 section onto a 32×32 canvas (CSS scales it
 * up, pixelated). Row 0 is the plane's top. `kind`: "probability" (P(class 1) · 255) and
 * "regression" (output over [−1, 1] as 0..255) use the orange-grey-blue scale, "class" (the
 * predicted class index) the class colours.
 */
export function paintThumbnail(canvas, thumbnails, index, kind) {
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(THUMB, THUMB);
  const d = img.data;
  const base = index * THUMB * THUMB;
  for (let i = 0; i < THUMB * THUMB; i += 1) {
    const q = thumbnails[base + i];
    let rgb;
    if (kind === 'class') rgb = PALETTE_RGB[q % PALETTE_RGB.length];
    else rgb = [DIVERGING_LUT[q * 3], DIVERGING_LUT[q * 3 + 1], DIVERGING_LUT[q * 3 + 2]];
    d[i * 4] = rgb[0];
    d[i * 4 + 1] = rgb[1];
    d[i * 4 + 2] = rgb[2];
    d[i * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

const fmtLoss = (v) => (v == null ? '–' : formatNumber(v, { maximumFractionDigits: 3, minimumFractionDigits: 3 }));
const fmtAcc = (v) => (v == null ? '–' : `${formatNumber(v * 100, { maximumFractionDigits: 1 })} %`);

/** Best first: test accuracy (classification) or test loss (regression); students without one last. */
export function rank(students, problem) {
  const key = problem === 'regression' ? (s) => s.test_loss : (s) => (s.test_accuracy == null ? null : -s.test_accuracy);
  return [...students].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    if (ka == null || kb == null) return (ka == null) - (kb == null);
    if (ka !== kb) return ka - kb;
    const la = a.test_loss ?? Infinity;
    const lb = b.test_loss ?? Infinity;
    return la - lb || a.nickname.localeCompare(b.nickname);
  });
}

export class Roster {
  /**
   * @param {{grid: HTMLElement, empty: HTMLElement, leaderboard: HTMLElement, onSelect: (student) => void}} els
   */
  constructor(els) {
    this.els = els;
    this.cards = new Map(); // session_id -> {root, canvas, fields}
    this.students = [];
    this.problem = 'classification';
    this.selected = null;
    this.frames = 0;
  }

  /** One roster frame: {header: {students, room}, arrays: {thumbnails}}. */
  update(header, arrays) {
    this.frames += 1;
    this.students = header.students || [];
    this.problem = header.room?.config?.problem || this.problem;
    const seen = new Set();
    for (const s of this.students) {
      seen.add(s.session_id);
      const card = this.cards.get(s.session_id) || this.makeCard(s);
      this.fill(card, s, header, arrays);
    }
    for (const [id, card] of this.cards) {
      if (!seen.has(id)) {
        card.root.remove();
        this.cards.delete(id);
      }
    }
    this.els.empty.hidden = this.students.length > 0;
    this.els.grid.dataset.frames = String(this.frames);
    this.drawLeaderboard();
  }

  makeCard(s) {
    const root = document.createElement('button');
    root.type = 'button';
    root.className = 'student-card';
    root.dataset.testid = 'student-card';
    root.dataset.session = s.session_id;
    const canvas = document.createElement('canvas');
    canvas.width = THUMB;
    canvas.height = THUMB;
    canvas.className = 'thumb';
    canvas.dataset.testid = 'student-thumb';
    const name = document.createElement('div');
    name.className = 'student-name';
    name.dataset.testid = 'student-name';
    const stats = document.createElement('dl');
    stats.className = 'student-stats';
    const fields = { name };
    for (const key of ['epoch', 'loss', 'accuracy']) {
      const dt = document.createElement('dt');
      dt.dataset.i18n = `room.card.${key}`;
      dt.textContent = t(`room.card.${key}`);
      const dd = document.createElement('dd');
      dd.dataset.testid = `student-${key}`;
      stats.append(dt, dd);
      fields[key] = dd;
    }
    const badge = document.createElement('span');
    badge.className = 'student-badge';
    badge.dataset.testid = 'student-badge';
    fields.badge = badge;
    root.append(canvas, name, stats, badge);
    root.addEventListener('click', () => this.els.onSelect(this.students.find((x) => x.session_id === s.session_id) || s));
    const card = { root, canvas, fields };
    this.cards.set(s.session_id, card);
    this.els.grid.appendChild(root);
    return card;
  }

  fill(card, s, header, arrays) {
    const { fields, root, canvas } = card;
    fields.name.textContent = s.nickname;
    fields.epoch.textContent = String(s.epoch ?? 0);
    fields.epoch.dataset.value = String(s.epoch ?? 0);
    fields.loss.textContent = fmtLoss(s.test_loss);
    fields.accuracy.textContent = fmtAcc(s.test_accuracy);
    root.classList.toggle('running', Boolean(s.running));
    root.dataset.running = String(Boolean(s.running));
    root.classList.toggle('selected', this.selected === s.session_id);
    const badges = [];
    if (s.running) badges.push(t('room.card.running'));
    if (s.config_changed) badges.push(t('room.card.changed'));
    fields.badge.textContent = badges.join(' · ');
    root.title = s.config_changed ? t('room.card.changedTitle') : '';
    const thumbs = arrays?.thumbnails;
    if (thumbs && s.thumbnail != null) {
      const kind = s.thumbnail_kind || header.thumbnail_kind || 'probability';
      paintThumbnail(canvas, thumbs, s.thumbnail, kind);
      canvas.dataset.painted = String(Number(canvas.dataset.painted || 0) + 1);
      canvas.dataset.epoch = String(s.epoch ?? 0);
    }
  }

  select(sessionId) {
    this.selected = sessionId;
    for (const [id, card] of this.cards) card.root.classList.toggle('selected', id === sessionId);
  }

  drawLeaderboard() {
    const table = this.els.leaderboard;
    const regression = this.problem === 'regression';
    const head = document.createElement('tr');
    for (const key of ['rank', 'nickname', 'epoch', regression ? 'loss' : 'accuracy']) {
      const th = document.createElement('th');
      th.textContent = t(`room.board.${key}`);
      head.appendChild(th);
    }
    const rows = rank(this.students, this.problem).map((s, i) => {
      const tr = document.createElement('tr');
      tr.dataset.testid = 'leaderboard-row';
      tr.dataset.session = s.session_id;
      const cells = [String(i + 1), s.nickname, String(s.epoch ?? 0), regression ? fmtLoss(s.test_loss) : fmtAcc(s.test_accuracy)];
      for (const text of cells) {
        const td = document.createElement('td');
        td.textContent = text;
        tr.appendChild(td);
      }
      tr.addEventListener('click', () => this.els.onSelect(s));
      return tr;
    });
    table.replaceChildren(head, ...rows);
  }

  /** Labels after a language change. */
  relabel() {
    for (const el of this.els.grid.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
    this.drawLeaderboard();
  }
}
