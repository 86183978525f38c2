// A student in a classroom (or the teacher on their own session): the "Join a class" dialog, the
// room bar under the masthead, locked controls, and follow mode (watch the teacher's session
// read-only, then fork it). The playground (app.js) drives the joined session as its own.

import { ApiError, api } from './api.js';
import { onLanguageChange, t } from './i18n.js';
import { normaliseCode, roomApi } from './roomapi.js';
import { SessionWatch } from './watch.js';

const $ = (id) => document.getElementById(id);
const studentKey = (code) => `nnpg.student.${code}`;

/**
 * The page's controls per lockable control (catalog controls): `controls` is a selector of what
 * the lock disables, `host` where its lock symbol goes. A lock on "training" covers training.*.
 */
const LOCK_TARGETS = {
  problem: { controls: '#problem' },
  'data.dataset': { controls: '#datasets, #csv-file, #csv-upload, #draw-toggle' },
  'data.noise': { controls: '#noise' },
  'data.train_ratio': { controls: '#train-ratio' },
  'data.validation_ratio': { controls: '#validation, #val-ratio' },
  'data.num_points': { controls: '#num-points' },
  'data.seed': { controls: '#seed, #regenerate' },
  'data.classes': { controls: '#classes' },
  features: { controls: '#features .feature', host: '.network-head > h2' },
  'network.hidden_layers': { controls: '#add-layer, #remove-layer, #layers .layer-buttons button', host: '.layers-head' },
  'network.activation': { controls: '#activation, #layers .layer-activation, #leaky-slope' },
  'network.init': { controls: '#init' },
  'network.batch_norm': { controls: '#batch-norm' },
  'network.dropout': { controls: '#dropout' },
  'training.learning_rate': { controls: '#learning-rate, #lr-find-apply' },
  'training.schedule': { controls: '#panel-schedule .panel-body select, #panel-schedule .panel-body input', host: '#panel-schedule > summary' },
  'training.optimizer': { controls: '#optimizer, #optimizer-params input, #weight-decay' },
  'training.batch_size': { controls: '#batch-size, #batch-mode' },
  'training.regularization': { controls: '#regularization, #regularization-rate' },
  'training.loss': { controls: '#loss, #huber-delta' },
  'training.clip': { controls: '#clip, #clip-value' },
  'training.input_noise': { controls: '#input-noise' },
  'training.stop': { controls: '#panel-stop .panel-body input', host: '#panel-stop > summary' },
};

/** The targets a set of locks covers ({name: target}), a lock on a group covering its members. */
export function lockedTargets(locked) {
  const out = {};
  for (const [path, target] of Object.entries(LOCK_TARGETS)) {
    const by = locked.find((name) => path === name || path.startsWith(`${name}.`));
    if (by) out[path] = { ...target, by };
  }
  return out;
}

/** The element a lock symbol goes into: the control's label or heading. */
function lockHost(target) {
  if (target.host) return document.querySelector(target.host);
  const el = document.querySelector(target.controls.split(',')[0]);
  const field = el?.closest('.top-field, .field, .row');
  return field?.querySelector('label') || field;
}

export class RoomClient {
  /**
   * @param {{catalog: object, adopt: (created: object) => void, refresh: () => Promise<void>,
   *   setRoomHash: (code: string) => void, toast: (text: string) => void}} hooks
   */
  constructor(hooks) {
    this.hooks = hooks;
    this.mode = null; // 'student' | 'teacher' | null
    this.code = null;
    this.name = '';
    this.nickname = '';
    this.token = null;
    this.teacherSessionId = null;
    this.status = 'open';
    this.locked = [];
    this.following = false;
    this.pendingJoin = null; // resolves the boot-time join dialog
    this.style = document.createElement('style');
    document.head.appendChild(this.style);
    this.watch = new SessionWatch({
      boundary: $('follow-boundary'),
      loss: $('follow-loss'),
      info: $('follow-info'),
      setup: $('follow-setup'),
      size: 300,
      onClose: ({ code, willRetry }) => {
        if (!willRetry && code !== 1000 && this.following) {
          this.hooks.toast(t('room.follow.ended', { code }));
          this.stopFollow();
        }
      },
    });
    this.wire();
    onLanguageChange(() => this.render());
  }

  wire() {
    $('join-open').addEventListener('click', () => this.openJoin(this.code || ''));
    $('join-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.join();
    });
    $('join-cancel').addEventListener('click', () => this.closeJoin(false));
    $('join-dialog').addEventListener('cancel', () => this.closeJoin(false));
    $('join-code-input').addEventListener('input', (ev) => {
      const at = ev.target.selectionStart;
      ev.target.value = normaliseCode(ev.target.value);
      ev.target.setSelectionRange(at, at);
    });
    $('room-follow').addEventListener('click', () => (this.following ? this.stopFollow() : this.follow()));
    $('room-fork').addEventListener('click', () => this.fork());
    $('follow-fork').addEventListener('click', () => this.fork());
    $('follow-stop').addEventListener('click', () => this.stopFollow());
    // Locked controls: refuse their events before the controls' own listeners see them.
    for (const type of ['click', 'change', 'input', 'mousedown', 'keydown']) {
      document.addEventListener(type, (ev) => this.guard(ev), true);
    }
  }

  /**
   * At boot, with `#room=CODE` in the URL: rejoin (the teacher's or a student's stored token),
   * else ask to join. True when the page now shows a room session.
   */
  async boot(code) {
    code = normaliseCode(code);
    if (!code) return false;
    const teacher = JSON.parse(sessionStorage.getItem('nnpg.teacher') || 'null');
    if (teacher?.code === code && (await this.resumeTeacher(code, teacher.token))) return true;
    const saved = JSON.parse(localStorage.getItem(studentKey(code)) || 'null');
    if (saved?.token) {
      try {
        const me = await roomApi.me(code, saved.token);
        await this.enter(code, saved.token, { ...me, name: saved.name });
        return true;
      } catch (err) {
        localStorage.removeItem(studentKey(code));
        if (!(err instanceof ApiError)) throw err;
      }
    }
    return new Promise((resolve) => {
      this.pendingJoin = resolve;
      this.openJoin(code);
    });
  }

  async resumeTeacher(code, token) {
    try {
      const room = await roomApi.teacher(code, token);
      const session = await api.getSession(room.teacher_session_id, token);
      this.hooks.adopt({ ...session, token });
      this.mode = 'teacher';
      this.code = code;
      this.name = room.name;
      this.token = token;
      this.status = room.status;
      this.render();
      return true;
    } catch {
      return false;
    }
  }

  openJoin(code) {
    $('join-code-input').value = normaliseCode(code);
    $('join-error').textContent = '';
    delete $('join-error').dataset.status;
    if (!$('join-dialog').open) $('join-dialog').showModal();
    ($('join-code-input').value ? $('join-nickname') : $('join-code-input')).focus();
  }

  closeJoin(joined) {
    if ($('join-dialog').open) $('join-dialog').close();
    const resolve = this.pendingJoin;
    this.pendingJoin = null;
    resolve?.(joined);
  }

  async join() {
    const code = normaliseCode($('join-code-input').value);
    const nickname = $('join-nickname').value.trim();
    const error = $('join-error');
    error.textContent = '';
    if (!code || !nickname) {
      error.textContent = t('room.join.missing');
      return;
    }
    $('join-submit').disabled = true;
    error.textContent = t('room.join.joining');
    try {
      const joined = await roomApi.join(code, nickname);
      localStorage.setItem(studentKey(code), JSON.stringify({ token: joined.token, name: joined.room.name }));
      await this.enter(code, joined.token, { ...joined, name: joined.room.name, status: joined.room.status });
      if (joined.nickname !== nickname) this.hooks.toast(t('room.join.renamed', { nickname: joined.nickname }));
      this.closeJoin(true);
    } catch (err) {
      error.dataset.status = String(err.status ?? '');
      error.textContent = await this.joinError(code, err);
    } finally {
      $('join-submit').disabled = false;
    }
  }

  /** A refused join in words: 404 unknown code, 409 full, 410 expired or closed, 429 too many tries. */
  async joinError(code, err) {
    if (!(err instanceof ApiError)) return t('room.join.failed', { message: err.message });
    const detail = err.message;
    if (err.status === 410) {
      const info = await roomApi.info(code).catch(() => null);
      return t(info?.status === 'expired' ? 'room.join.expired' : 'room.join.closed', { detail });
    }
    const key = { 404: 'room.join.unknown', 409: 'room.join.full', 429: 'room.join.tooMany', 422: 'room.join.badNickname' }[err.status];
    return key ? t(key, { detail }) : t('room.join.failed', { message: detail });
  }

  /** Show the joined session: the playground adopts it; the room bar and locks appear. */
  async enter(code, token, info) {
    const session = await api.getSession(info.session_id, token);
    this.stopFollow();
    // Adopt first: the playground deletes the session it leaves unless that one was a room's.
    this.hooks.adopt({ ...session, token });
    this.mode = 'student';
    this.code = code;
    this.token = token;
    this.name = info.name || info.room?.name || code;
    this.nickname = info.nickname;
    this.teacherSessionId = info.teacher_session_id;
    this.status = info.status || 'open';
    this.hooks.setRoomHash(code);
    this.setLocked(info.locked || []);
    this.render();
  }

  /** Someone put another `room=` into the URL: offer to join that room. */
  hashChanged(code) {
    code = normaliseCode(code);
    if (code && code !== this.code) this.openJoin(code);
  }

  /** The page now shows a session of no room (an import, a reopened run). */
  leave() {
    if (this.mode === null) return;
    this.stopFollow();
    this.mode = null;
    this.code = null;
    this.setLocked([]);
    this.hooks.setRoomHash('');
    this.render();
  }

  /** True while the page's session belongs to a room: leaving the page must not delete it. */
  keepsSession() {
    return this.mode !== null && this.status !== 'closed';
  }

  /** A {"type": "room"} message on the student's own stream. */
  message(msg) {
    if (this.mode !== 'student') return;
    const before = this.status;
    this.status = msg.status || this.status;
    this.setLocked(this.status === 'closed' ? [] : msg.locked || []);
    if (this.status === 'closed' && before !== 'closed') {
      this.stopFollow();
      localStorage.removeItem(studentKey(this.code));
      this.hooks.toast(t('room.bar.closedToast'));
    }
    this.render();
  }

  setLocked(locked) {
    this.locked = [...locked];
    this.applyLocks();
    // Controls unlocked just now get back the state their own rules give them.
    this.hooks.rerender?.();
  }

  /** Disable locked controls, mark them with a lock and a tooltip; idempotent (after renders). */
  applyLocks() {
    const targets = lockedTargets(this.mode === 'student' ? this.locked : []);
    const selectors = Object.values(targets).map((x) => x.controls);
    this.style.textContent = selectors.length
      ? `${selectors.join(', ')} { opacity: 0.45; cursor: not-allowed !important; }`
      : '';
    for (const el of document.querySelectorAll('[data-room-locked]')) {
      if (!selectors.some((sel) => el.matches(sel))) {
        if ('disabled' in el) el.disabled = false;
        el.removeAttribute('data-room-locked');
        if (el.dataset.roomTitle !== undefined) el.title = el.dataset.roomTitle;
        delete el.dataset.roomTitle;
      }
    }
    for (const badge of document.querySelectorAll('.lock-badge')) badge.remove();
    for (const target of Object.values(targets)) {
      const title = t('room.lock.title', { label: this.controlLabel(target.by) });
      for (const el of document.querySelectorAll(target.controls)) {
        if (el.dataset.roomTitle === undefined) el.dataset.roomTitle = el.title;
        el.dataset.roomLocked = target.by;
        el.title = title;
        if ('disabled' in el) el.disabled = true;
      }
      const host = lockHost(target);
      if (host && !host.querySelector('.lock-badge')) {
        const badge = document.createElement('span');
        badge.className = 'lock-badge';
        badge.dataset.testid = `lock-badge-${target.by}`;
        badge.title = title;
        host.appendChild(badge);
      }
    }
    document.body.dataset.roomLocks = this.mode === 'student' ? this.locked.join(' ') : '';
  }

  /** Swallow events on locked controls (and on every control while following). */
  guard(ev) {
    const target = ev.target instanceof Element ? ev.target : null;
    if (!target || this.mode !== 'student') return;
    const locked = target.closest('[data-room-locked]');
    const selectors = Object.values(lockedTargets(this.locked)).map((x) => x.controls);
    const hit = locked || (selectors.length && target.closest(selectors.join(', ')));
    if (!hit) return;
    if (ev.type === 'keydown' && ['Tab', 'Escape'].includes(ev.key)) return;
    ev.preventDefault();
    ev.stopImmediatePropagation();
    if (ev.type === 'click') this.hooks.toast(t('room.lock.toast', { label: this.controlLabel(hit.dataset.roomLocked || '') }));
  }

  controlLabel(name) {
    const c = (this.hooks.catalog.controls || []).find((x) => x.name === name);
    const key = `room.control.${String(name).replace(/\./g, '_')}`;
    const text = t(key);
    return text === key ? c?.label || name : text;
  }

  follow() {
    if (this.mode !== 'student' || !this.teacherSessionId) return;
    this.following = true;
    this.watch.open(this.teacherSessionId, this.token);
    this.render();
  }

  stopFollow() {
    if (!this.following) return;
    this.following = false;
    this.watch.close();
    this.render();
  }

  async fork() {
    try {
      await roomApi.fork(this.code, this.token);
      this.stopFollow();
      await this.hooks.refresh();
      this.hooks.toast(t('room.follow.forked'));
    } catch (err) {
      this.hooks.toast(t('room.follow.forkFailed', { message: err.message }));
    }
  }

  /** The room bar and the follow view from the current state. */
  render() {
    const bar = $('room-bar');
    bar.hidden = this.mode === null;
    document.body.classList.toggle('in-room', this.mode !== null);
    $('join-open').hidden = this.mode !== null;
    if (this.mode === null) return;
    const student = this.mode === 'student';
    $('room-bar-name').textContent = this.name;
    $('room-bar-who').textContent = student ? t('room.bar.you', { nickname: this.nickname }) : t('room.bar.teacher');
    const status = $('room-bar-status');
    status.hidden = this.status === 'open';
    status.textContent = t(`room.status.${this.status}`);
    status.dataset.status = this.status;
    const locks = $('room-bar-locks');
    const n = student && this.status !== 'closed' ? this.locked.length : 0;
    locks.hidden = n === 0;
    locks.textContent = t('room.bar.locks', { n });
    locks.title = this.locked.map((name) => this.controlLabel(name)).join(', ');
    const active = student && this.status !== 'closed';
    $('room-follow').hidden = !active;
    $('room-fork').hidden = !active;
    $('room-follow').textContent = t(this.following ? 'room.bar.stopFollow' : 'room.bar.follow');
    $('room-follow').setAttribute('aria-pressed', String(this.following));
    $('follow-view').hidden = !this.following;
    document.body.classList.toggle('room-following', this.following);
    // While following, the student's own controls are inert (the teacher's session is shown).
    for (const el of document.querySelectorAll('.topbar, main.columns')) el.inert = this.following;
    this.applyLocks();
  }
}
