// The teacher's page (/teacher): open a room, then its dashboard: the live roster with
// thumbnails and a leaderboard (roster.js), room-wide actions, one student's session in detail,
// and a projector view. The teacher token stays in sessionStorage, so a reload keeps the room.

import { api, ApiError, saveBlob } from './api.js';
import { browserLanguage, language, onLanguageChange, setLanguage, t } from './i18n.js';
import { roomApi } from './roomapi.js';
import { RoomLessonControl } from './roomlesson.js';
import { Roster } from './roster.js';
import { SessionSocket } from './socket.js';
import { State } from './state.js';
import { SessionWatch } from './watch.js';

const $ = (id) => document.getElementById(id);
const STORE_KEY = 'nnpg.teacher';

/** The dashboard stream /ws/rooms/{code}: roster frames in the session frames' format. */
class RoomSocket extends SessionSocket {
  url() {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    return `${scheme}://${location.host}/ws/rooms/${encodeURIComponent(this.id)}?token=${encodeURIComponent(this.token)}`;
  }
}

/** The label of a lockable control in the page's language (the server's label as fallback). */
export function controlLabel(control) {
  const key = `room.control.${control.name.replace(/\./g, '_')}`;
  const text = t(key);
  return text === key ? control.label : text;
}

/** Checkboxes, one per lockable control, into `box`; returns a getter of the checked names. */
export function lockCheckboxes(box, controls, checked = [], testPrefix = 'lock') {
  box.replaceChildren();
  for (const c of controls) {
    const label = document.createElement('label');
    // A group ("training") covers its members ("training.optimizer"...): shown as their heading.
    const group = controls.some((o) => o.name.startsWith(`${c.name}.`));
    label.className = group ? 'check lock-item lock-group' : 'check lock-item';
    const input = document.createElement('input');
    input.type = 'checkbox';
    input.value = c.name;
    input.dataset.testid = `${testPrefix}-${c.name}`;
    input.checked = checked.includes(c.name);
    const span = document.createElement('span');
    span.textContent = controlLabel(c);
    label.append(input, span);
    box.appendChild(label);
  }
  return () => [...box.querySelectorAll('input:checked')].map((i) => i.value);
}

function hashLanguage() {
  const m = /(?:^#|&)lang=([a-z]{2})/i.exec(location.hash);
  return m ? m[1].toLowerCase() : null;
}

class TeacherPage {
  constructor() {
    this.catalog = null;
    this.room = null; // RoomOut (without students once the stream runs)
    this.auth = null; // {code, token}
    this.socket = null;
    this.detailId = null;
    this.projecting = false;
    this.statusText = () => '';
  }

  async boot() {
    await setLanguage(hashLanguage() || browserLanguage());
    onLanguageChange(() => this.relabel());
    // The language menu; the choice stays in the URL (#lang=es), as on the playground.
    $('language').value = language();
    $('language').addEventListener('change', async () => {
      await setLanguage($('language').value);
      history.replaceState(null, '', `#lang=${language()}`);
    });
    this.catalog = await api.catalog();
    this.controls = this.catalog.controls || [];
    this.createLocks = lockCheckboxes($('create-locks'), this.controls);
    this.roster = new Roster({
      grid: $('roster'),
      empty: $('roster-empty'),
      leaderboard: $('leaderboard'),
      onSelect: (s) => this.showDetail(s.session_id, s.nickname, false),
    });
    this.detail = new SessionWatch({
      boundary: $('detail-boundary'),
      loss: $('detail-loss'),
      info: $('detail-info'),
      setup: $('detail-setup'),
      size: 280,
    });
    this.projector = new SessionWatch({ boundary: $('projector-boundary'), info: $('projector-info'), size: 520 });
    this.lessonControl = new RoomLessonControl({
      auth: () => this.auth,
      room: () => this.room,
      started: (room) => {
        this.room = room;
        this.showRoom();
      },
      toast: (text) => this.toast(text),
    });
    this.lessonControl.load(); // not awaited: the dashboard does not wait for the lessons menu
    this.wire();
    const saved = JSON.parse(sessionStorage.getItem(STORE_KEY) || 'null');
    if (saved?.code && saved?.token) {
      try {
        this.enter(saved, await roomApi.teacher(saved.code, saved.token));
        return;
      } catch (err) {
        sessionStorage.removeItem(STORE_KEY);
        this.toast(t('room.teacher.lost', { message: err.message }));
      }
    }
    this.showCreate();
  }

  wire() {
    $('create-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.create();
    });
    $('push-config').addEventListener('click', () => this.push());
    $('pause-all').addEventListener('click', () => this.act(() => roomApi.pauseAll(this.auth.code, this.auth.token), 'room.actions.pausedAll'));
    $('play-all').addEventListener('click', () => this.act(() => roomApi.playAll(this.auth.code, this.auth.token), 'room.actions.playingAll'));
    $('apply-locks').addEventListener('click', () => {
      const locked = this.dashLocks();
      this.act(async () => {
        this.room = await roomApi.setLocked(this.auth.code, this.auth.token, locked);
        this.showRoom();
        $('lock-menu').open = false;
      }, 'room.actions.locksApplied');
    });
    $('lock-menu').addEventListener('toggle', () => {
      if ($('lock-menu').open) this.dashLocks = lockCheckboxes($('dash-locks'), this.controls, this.room?.locked || [], 'dash-lock');
    });
    $('download-csv').addEventListener('click', () =>
      this.act(async () => {
        const { blob, filename } = await roomApi.resultsCsv(this.auth.code, this.auth.token);
        saveBlob(blob, filename);
      }),
    );
    this.confirming($('expire-code'), () => this.act(() => roomApi.expire(this.auth.code, this.auth.token), 'room.actions.expired'));
    this.confirming($('close-room'), () => this.act(() => roomApi.close(this.auth.code, this.auth.token), 'room.actions.closed'));
    $('detail-close').addEventListener('click', () => this.hideDetail());
    $('detail-project').addEventListener('click', () => this.project());
    for (const btn of document.querySelectorAll('#detail-controls [data-command]')) {
      btn.addEventListener('click', () => this.detail.send({ type: btn.dataset.command }));
    }
    $('watch-own').addEventListener('click', () => this.showDetail(this.room.teacher_session_id, t('room.teacher.ownName'), true));
    // window.open (not a noopener link): the new tab gets a copy of this tab's sessionStorage.
    $('open-own').addEventListener('click', () => window.open(`/#room=${encodeURIComponent(this.auth.code)}`, '_blank'));
    $('projector-mode').addEventListener('click', () => this.setProjector(true));
    $('projector-exit').addEventListener('click', () => this.setProjector(false));
  }

  /** A destructive button: the first click arms it, a second one within 5 s acts. */
  confirming(btn, action) {
    btn.addEventListener('click', () => {
      if (btn.dataset.armed === 'true') {
        clearTimeout(btn.armTimer);
        btn.dataset.armed = 'false';
        btn.textContent = t(btn.dataset.i18n);
        action();
        return;
      }
      btn.dataset.armed = 'true';
      btn.textContent = t('room.actions.confirm');
      btn.armTimer = setTimeout(() => {
        btn.dataset.armed = 'false';
        btn.textContent = t(btn.dataset.i18n);
      }, 5000);
    });
  }

  /** Run a room action; success shows `doneKey`, failure the server's message. */
  async act(fn, doneKey = null) {
    try {
      await fn();
      if (doneKey) this.toast(t(doneKey));
    } catch (err) {
      this.toast(t('room.actions.failed', { message: err.message }));
    }
  }

  /** A playground link or its #hash -> a SessionConfig over the defaults; throws on unreadable keys. */
  configFromLink(text) {
    const hash = text.includes('#') ? text.slice(text.indexOf('#')) : text;
    const state = new State(this.catalog.defaults);
    const unread = state.readHash(hash.trim());
    if (unread.length) throw new Error(t('room.create.badLink', { keys: unread.join(', ') }));
    return state.config();
  }

  showCreate() {
    $('create-room').hidden = false;
    $('dashboard').hidden = true;
    this.status(() => t('room.teacher.noRoom'));
  }

  async create() {
    $('create-error').textContent = '';
    try {
      const link = $('room-config').value.trim();
      const max = $('room-max').value.trim();
      const created = await roomApi.create({
        name: $('room-name').value.trim(),
        config: link ? this.configFromLink(link) : null,
        locked: this.createLocks(),
        max_students: max ? Number(max) : null,
        allow_projector: $('room-projector').checked,
      });
      const auth = { code: created.code, token: created.teacher_token };
      sessionStorage.setItem(STORE_KEY, JSON.stringify(auth));
      this.enter(auth, created.room);
    } catch (err) {
      $('create-error').textContent = err instanceof ApiError ? err.message : String(err.message || err);
    }
  }

  /** Show the dashboard of a room and stream its roster. */
  enter(auth, room) {
    this.auth = auth;
    this.room = room;
    $('create-room').hidden = true;
    $('dashboard').hidden = false;
    const url = `${location.origin}/#room=${room.code}`;
    $('join-url').textContent = url;
    $('join-url').href = url;
    $('join-code').textContent = room.code;
    $('projector-url').textContent = url;
    $('projector-code').textContent = room.code;
    this.showRoom();
    this.connect();
  }

  connect() {
    this.socket?.close();
    this.status(() => t('room.teacher.connecting'));
    this.socket = new RoomSocket(this.auth.code, this.auth.token, {
      onOpen: () => this.status(() => t('room.teacher.live')),
      onFrame: ({ header, arrays }) => {
        if (header.type !== 'roster') return;
        this.room = { ...this.room, ...header.room };
        this.roster.update(header, arrays);
        this.showRoom(header.students?.length ?? 0);
      },
      onMessage: (msg) => {
        if (msg.type === 'error') this.toast(msg.message);
      },
      onClose: ({ code, reason, willRetry }) => {
        if (willRetry) this.status(() => t('room.teacher.reconnecting'), 'warn');
        else if (code === 4410) {
          this.room = { ...this.room, status: 'closed' };
          this.showRoom();
        } else if (code >= 4400 && code < 4500) {
          // 4429 (too many attempts) is for now; any other refusal means the token is no good.
          if (code !== 4429) sessionStorage.removeItem(STORE_KEY);
          this.status(() => t('room.teacher.refused', { reason: reason || code }), 'error');
        } else if (code !== 1000) this.status(() => t('room.teacher.disconnected', { code }), 'error');
      },
    });
  }

  /** Header, status, locks and buttons from this.room. */
  showRoom(count = null) {
    const room = this.room;
    $('room-title').textContent = room.name;
    const status = $('room-status');
    status.textContent = t(`room.status.${room.status}`);
    status.dataset.status = room.status;
    $('room-status').dataset.value = room.status;
    const n = count ?? room.students?.length ?? 0;
    $('room-count').textContent = t('room.teacher.count', { n, max: room.max_students });
    const labels = (room.locked || []).map((name) => controlLabel(this.controls.find((c) => c.name === name) || { name, label: name }));
    $('locks-line').textContent = labels.length ? t('room.teacher.lockedList', { list: labels.join(', ') }) : t('room.teacher.nothingLocked');
    const closed = room.status === 'closed';
    for (const id of ['push-config', 'pause-all', 'play-all', 'expire-code', 'close-room', 'apply-locks', 'detail-project']) $(id).disabled = closed;
    $('expire-code').disabled = closed || room.status === 'expired';
    $('detail-project').hidden = !room.allow_projector;
    if (closed) this.status(() => t('room.teacher.closedStatus'), 'warn');
    document.body.classList.toggle('room-closed', closed);
    this.lessonControl.render();
    this.showProjected();
  }

  async push() {
    try {
      const link = $('push-link').value.trim();
      let config;
      if (link) config = this.configFromLink(link);
      else config = (await api.getSession(this.room.teacher_session_id, this.auth.token)).config;
      this.room = await roomApi.pushConfig(this.auth.code, this.auth.token, config);
      this.toast(t('room.actions.pushed', { n: this.room.students?.length ?? 0 }));
      $('push-config').dataset.pushed = String(Number($('push-config').dataset.pushed || 0) + 1);
    } catch (err) {
      this.toast(t('room.actions.failed', { message: err.message }));
    }
  }

  showDetail(sessionId, name, own) {
    this.detailId = sessionId;
    this.roster.select(own ? null : sessionId);
    $('detail').hidden = false;
    $('detail-name').textContent = name;
    $('detail-controls').hidden = !own;
    this.detail.open(sessionId, this.auth.token);
    this.showProjected();
  }

  hideDetail() {
    this.detail.close();
    this.detailId = null;
    this.roster.select(null);
    $('detail').hidden = true;
  }

  async project() {
    const on = this.room.projector_session_id === this.detailId;
    await this.act(async () => {
      this.room = await roomApi.project(this.auth.code, this.auth.token, on ? null : this.detailId);
      this.showRoom();
    }, on ? 'room.detail.unprojected' : 'room.detail.projected');
  }

  /** The projector shows the chosen session, else the join code alone. */
  showProjected() {
    const id = this.room?.projector_session_id || null;
    $('detail-project').textContent = t(id && id === this.detailId ? 'room.detail.unproject' : 'room.detail.project');
    $('projector-show').hidden = !id;
    if (!this.projecting || !id) {
      if (this.projector.sessionId) this.projector.close();
      return;
    }
    if (this.projector.sessionId !== id) {
      const student = this.roster.students.find((s) => s.session_id === id);
      $('projector-name').textContent = student ? student.nickname : t('room.teacher.ownName');
      this.projector.open(id, this.auth.token);
    }
  }

  setProjector(on) {
    this.projecting = on;
    $('projector').hidden = !on;
    this.showProjected();
  }

  relabel() {
    if (!this.roster) return;
    $('language').value = language();
    this.createLocks = lockCheckboxes($('create-locks'), this.controls, this.createLocks());
    this.roster.relabel();
    this.lessonControl.relabel();
    if (this.room) this.showRoom();
    this.status(this.statusText);
  }

  /** `text`: a function, so the status can be redrawn in another language. */
  status(text, level = 'info') {
    this.statusText = text;
    const el = $('status');
    el.textContent = text();
    el.dataset.level = level;
  }

  toast(text) {
    const box = $('toasts');
    const el = document.createElement('div');
    el.className = 'toast';
    el.setAttribute('role', 'alert');
    el.textContent = text;
    box.appendChild(el);
    while (box.children.length > 4) box.firstChild.remove();
    setTimeout(() => el.remove(), 6000);
  }
}

const page = new TeacherPage();
// Read-only hooks for tests.
window.nnpgTeacher = Object.freeze({
  code: () => page.auth?.code ?? null,
  room: () => (page.room ? JSON.parse(JSON.stringify(page.room)) : null),
  rosterFrames: () => page.roster?.frames ?? 0,
  students: () => JSON.parse(JSON.stringify(page.roster?.students ?? [])),
  detailFrames: () => page.detail?.frames ?? 0,
});

page.boot().catch((err) => {
  console.error(err);
  page.status(() => `failed to start: ${err.message}`, 'error');
});
