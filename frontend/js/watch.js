// A read-only view of one session's stream: its decision boundary with the training points, its
// loss curves and a line of numbers. The teacher's detail pane and projector, and a student's
// "follow the teacher" panel, all show a session this way.

import { boundaryOf, historyOf } from './compare.js';
import { formatNumber, t } from './i18n.js';
import { paintBoundary } from './paint.js';
import { SessionSocket } from './socket.js';

/** Train (dark) and test (grey) loss over epochs as two polylines on a canvas. */
export function drawLoss(canvas, history) {
  const ctx = canvas.getContext('2d');
  const { width: w, height: h } = canvas;
  ctx.clearRect(0, 0, w, h);
  ctx.strokeStyle = '#e2e4e6';
  ctx.strokeRect(0.5, 0.5, w - 1, h - 1);
  const epochs = history.epoch || [];
  if (epochs.length < 2) return;
  const series = [
    [history.train_loss, '#222'],
    [history.test_loss, '#9aa0a6'],
  ].filter(([ys]) => ys && ys.length === epochs.length);
  const finite = series.flatMap(([ys]) => ys.filter(Number.isFinite));
  if (!finite.length) return;
  const top = Math.max(...finite) * 1.05 || 1;
  const x0 = epochs[0];
  const span = epochs[epochs.length - 1] - x0 || 1;
  for (const [ys, colour] of series) {
    ctx.strokeStyle = colour;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    ys.forEach((y, i) => {
      const px = 2 + ((epochs[i] - x0) / span) * (w - 4);
      const py = h - 2 - (Math.max(0, y) / top) * (h - 4);
      if (i === 0) ctx.moveTo(px, py);
      else ctx.lineTo(px, py);
    });
    ctx.stroke();
  }
}

/** "circle · 4-2 · tanh · sgd · lr 0.03": the set-up of a SessionConfig in one line. */
export function describeConfig(c) {
  if (!c) return '';
  const layers = c.network?.hidden_layers?.length ? c.network.hidden_layers.join('-') : '0';
  return t('room.watch.config', {
    dataset: c.data?.dataset ?? '?',
    layers,
    activation: c.network?.activation ?? '?',
    optimizer: c.training?.optimizer ?? '?',
    lr: formatNumber(c.training?.learning_rate ?? 0, { maximumFractionDigits: 6 }),
  });
}

/** "epoch 120 · test loss 0.081 · accuracy 97%" for a SessionState. */
export function describeState(st) {
  if (!st) return '';
  const parts = [t('room.stat.epoch', { epoch: st.epoch ?? 0 })];
  if (st.test_loss != null) parts.push(t('room.stat.testLoss', { loss: formatNumber(st.test_loss, { maximumFractionDigits: 3 }) }));
  if (st.test_accuracy != null) parts.push(t('room.stat.accuracy', { accuracy: formatNumber(st.test_accuracy * 100, { maximumFractionDigits: 1 }) }));
  parts.push(st.running ? t('room.stat.running') : t('room.stat.paused'));
  return parts.join(' · ');
}

export class SessionWatch {
  /**
   * @param {{boundary: HTMLCanvasElement, loss: HTMLCanvasElement, info: HTMLElement, setup?: HTMLElement, size?: number,
   *   onMessage?: (msg: object) => void, onClose?: (ev: object) => void}} els
   */
  constructor(els) {
    this.els = els;
    this.socket = null;
    this.sessionId = null;
    this.config = null;
    this.dataset = null;
    this.state = null;
    this.frames = 0;
    this.pending = null;
    this.drawScheduled = false;
  }

  /** Stream session `id` with `token` (replacing any stream open now). */
  open(id, token) {
    this.close();
    this.sessionId = id;
    this.frames = 0;
    this.dataset = null;
    this.config = null;
    this.state = null;
    const socket = new SessionSocket(id, token, {
      onMessage: (msg) => {
        if (this.socket === socket) this.message(msg);
      },
      onFrame: (frame) => {
        if (this.socket === socket) this.frame(frame);
      },
      onClose: (ev) => {
        if (this.socket === socket) this.els.onClose?.(ev);
      },
    });
    this.socket = socket;
    this.showInfo();
    this.paint(null);
  }

  close() {
    this.socket?.close();
    this.socket = null;
    this.sessionId = null;
  }

  /** A command for the session ({type: 'play'}...); refused by the server on a read-only stream. */
  send(command) {
    this.socket?.send(command);
  }

  message(msg) {
    if (msg.type === 'hello' || msg.type === 'config') {
      this.config = msg.config;
      this.state = msg.state || this.state;
      this.showInfo();
    } else if (msg.type === 'dataset') {
      this.dataset = msg;
    }
    this.els.onMessage?.(msg);
  }

  frame(frame) {
    this.frames += 1;
    this.state = frame.header.state || this.state;
    this.pending = frame;
    if (this.drawScheduled) return;
    this.drawScheduled = true;
    requestAnimationFrame(() => {
      this.drawScheduled = false;
      const f = this.pending;
      this.pending = null;
      if (f && this.socket) this.paint(f);
    });
  }

  paint(frame) {
    const { boundary, loss, size = 280 } = this.els;
    const problem = this.config?.problem || 'classification';
    paintBoundary(boundary, frame ? boundaryOf(frame, problem) : null, this.dataset?.train, { size });
    if (loss) drawLoss(loss, frame ? historyOf(frame) : { epoch: [] });
    if (frame) boundary.dataset.frames = String(this.frames);
    this.showInfo();
  }

  showInfo() {
    const { info, setup } = this.els;
    if (setup) setup.textContent = describeConfig(this.config);
    if (!info) return;
    info.textContent = this.state ? describeState(this.state) : t('room.watch.connecting');
    info.dataset.epoch = String(this.state?.epoch ?? '');
  }
}
