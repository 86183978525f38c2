// The lessons panel: a menu of lessons, and the open lesson's step (text, what to try, Back / Next).
// Lessons are data from the server (GET /api/lessons); a step's config goes to the session through
// the same path the controls use, and where the student stands is kept with the session
// (PUT /api/sessions/{id}/lesson) and in the URL (`lesson=…&step=…`), so a link opens a step.

import { request } from './api.js';
import { language, onLanguageChange, t } from './i18n.js';

const $ = (id) => document.getElementById(id);

const progressPath = (sessionId) => `/api/sessions/${encodeURIComponent(sessionId)}/lesson`;

export const lessonApi = {
  /** -> [{id, order, concept, title: {en, es}, summary: {en, es}, steps: n}] */
  list: () => request('GET', '/api/lessons'),
  /** -> {id, title, summary, steps: [{text, ask, play, config (full), changes}]} */
  get: (id) => request('GET', `/api/lessons/${encodeURIComponent(id)}`),
  /** -> {lesson_id, step} | null */
  progress: (sessionId, token) => request('GET', progressPath(sessionId), { token }),
  save: (sessionId, token, lessonId, step) =>
    request('PUT', progressPath(sessionId), { token, body: { lesson_id: lessonId, step } }),
  clear: (sessionId, token) => request('DELETE', progressPath(sessionId), { token }),
};

/** Hash keys that are no part of a set-up: a link with only these loads the step's own config. */
const PAGE_KEYS = new Set(['lesson', 'step', 'lang', 'show_test', 'discretize', 'room']);

/** {lesson, step, hasConfig} from a URL hash. */
export function readLessonHash(hash) {
  const params = new URLSearchParams((hash || '').replace(/^#/, ''));
  const step = Number.parseInt(params.get('step') || '1', 10);
  return {
    lesson: params.get('lesson') || '',
    step: Number.isInteger(step) && step >= 1 ? step : 1,
    hasConfig: [...params.keys()].some((k) => !PAGE_KEYS.has(k)),
  };
}

const local = (text) => (text ? text[language()] || text.en || '' : '');

export class LessonPanel {
  /**
   * @param {object} hooks
   *   session() -> {id, token} | null; applyConfig(config): load a full SessionConfig into the page
   *   and the session, as the controls do; command(type): 'reset' | 'play' over the session's socket;
   *   setPosition(lessonId, step): the URL's lesson keys ('' clears them); toast(text).
   */
  constructor(hooks) {
    this.hooks = hooks;
    this.lesson = null; // the open lesson (GET /api/lessons/{id})
    this.step = 0; // 1-based; 0 when none is open
    this.menu = null; // the lessons list, once loaded
    this.cache = new Map();
    this.opening = 0; // the newest open() wins when several overlap
    this.firstSession = true;
    this.followed = ''; // the room lesson step last followed
    // The page's URL at boot, before the app writes its set-up into it.
    this.initial = readLessonHash(location.hash);
    this.el = {
      panel: $('lesson-panel'),
      label: $('lesson-label'),
      title: $('lesson-title'),
      counter: $('lesson-counter'),
      text: $('lesson-text'),
      askBox: $('lesson-ask'),
      ask: $('lesson-ask-text'),
      back: $('lesson-back'),
      next: $('lesson-next'),
      close: $('lesson-close'),
      dialog: $('lessons-dialog'),
      list: $('lessons-list'),
      note: $('lessons-note'),
    };
    $('lessons-open')?.addEventListener('click', () => this.showMenu());
    $('lessons-dialog-close')?.addEventListener('click', () => this.el.dialog.close());
    this.el.back.addEventListener('click', () => this.go(this.step - 1));
    this.el.next.addEventListener('click', () => {
      if (this.step < this.lesson.steps.length) this.go(this.step + 1);
      else this.finish();
    });
    this.el.close.addEventListener('click', () => this.close());
    onLanguageChange(() => {
      this.render();
      if (this.menu) this.renderMenu();
    });
  }

  /** The app's session is ready (first boot, or another session took over). */
  async sessionReady() {
    const first = this.firstSession;
    this.firstSession = false;
    if (first && this.initial.lesson) {
      // A shared link (only lesson keys) loads the step's set-up; a reload keeps the URL's own.
      await this.open(this.initial.lesson, this.initial.step, { apply: !this.initial.hasConfig });
      return;
    }
    if (this.lesson) {
      this.save();
      return;
    }
    const session = this.hooks.session();
    if (!session) return;
    try {
      const found = await lessonApi.progress(session.id, session.token);
      if (found && !this.lesson) await this.open(found.lesson_id, found.step, { apply: false });
    } catch {
      // No progress to restore (an older server): the panel simply stays closed.
    }
  }

  /** Open `lessonId` at `step`; `apply`: load the step's config (and play it when it says so). */
  async open(lessonId, step = 1, { apply = true } = {}) {
    const ticket = ++this.opening;
    let lesson;
    try {
      lesson = this.cache.get(lessonId) || (await lessonApi.get(lessonId));
    } catch (err) {
      this.hooks.toast(t('lesson.loadFailed', { message: err.message }));
      if (!this.lesson) this.hooks.setPosition('', 0);
      return;
    }
    if (ticket !== this.opening) return;
    this.cache.set(lessonId, lesson);
    this.lesson = lesson;
    this.step = Math.min(Math.max(1, step), lesson.steps.length);
    this.el.panel.hidden = false;
    document.body.classList.add('lesson-open');
    this.render();
    if (apply) this.loadStep();
    this.save();
  }

  /** Back / Next. */
  go(step) {
    if (!this.lesson || step < 1 || step > this.lesson.steps.length || step === this.step) return;
    this.step = step;
    this.render();
    this.loadStep();
    this.save();
  }

  /**
   * Put the current step's set-up into the session; a `play` step with a config of its own starts a
   * fresh run, one without (no `changes`) plays on, so weights the student set by hand carry over.
   */
  loadStep() {
    const step = this.lesson.steps[this.step - 1];
    this.hooks.applyConfig(step.config);
    if (!step.play) return;
    if (Object.keys(step.changes || {}).length) this.hooks.command('reset');
    this.hooks.command('play');
  }

  /** The URL and the server learn where the student is. */
  save() {
    if (!this.lesson) return;
    this.hooks.setPosition(this.lesson.id, this.step);
    const session = this.hooks.session();
    if (session) lessonApi.save(session.id, session.token, this.lesson.id, this.step).catch(() => {});
  }

  /** `keepProgress`: the server keeps the session's place (the teacher, not the student, ended it). */
  close({ keepProgress = false } = {}) {
    if (!this.lesson) return;
    this.opening += 1;
    this.lesson = null;
    this.step = 0;
    this.el.panel.hidden = true;
    document.body.classList.remove('lesson-open');
    this.hooks.setPosition('', 0);
    const session = this.hooks.session();
    if (session && !keepProgress) lessonApi.clear(session.id, session.token).catch(() => {});
  }

  /** The last step's Next: the lesson is done; the menu offers the next one. */
  finish() {
    this.close();
    this.showMenu();
  }

  /** The URL's lesson keys changed (a link pasted, back / forward). */
  fromHash(lessonId, step) {
    const n = Number.parseInt(step || '1', 10) || 1;
    if (!lessonId) this.close();
    else if (!this.lesson || this.lesson.id !== lessonId) this.open(lessonId, n);
    else this.go(n);
  }

  /** A teacher moved the whole room to a lesson step (the server already loaded its config). */
  follow(position) {
    // Room messages repeat the room's lesson (with locks, status): act only when it moves.
    const key = position && position.lesson_id ? `${position.lesson_id}:${position.step}` : '';
    if (key === this.followed) return;
    const was = this.followed;
    this.followed = key;
    if (!key) {
      // The teacher ended the room's lesson: close its panel (not one the student opened since),
      // keeping the student's progress record.
      const [id] = was.split(':');
      if (was && this.lesson?.id === id) {
        this.close({ keepProgress: true });
        this.hooks.toast(t('lesson.stoppedByTeacher'));
      }
      return;
    }
    if (this.lesson && this.lesson.id === position.lesson_id && this.step === position.step) return;
    this.open(position.lesson_id, position.step, { apply: false });
    this.hooks.toast(t('lesson.fromTeacher'));
  }

  render() {
    const lesson = this.lesson;
    if (!lesson) return;
    const step = lesson.steps[this.step - 1];
    const n = lesson.steps.length;
    this.el.panel.lang = language();
    this.el.label.textContent = t('lesson.label');
    this.el.title.textContent = local(lesson.title);
    this.el.counter.textContent = t('lesson.stepOf', { k: this.step, n });
    this.el.text.replaceChildren(
      ...local(step.text)
        .split(/\n\s*\n/)
        .map((para) => Object.assign(document.createElement('p'), { textContent: para.trim() })),
    );
    this.el.askBox.hidden = !step.ask;
    this.el.ask.textContent = local(step.ask);
    this.el.back.disabled = this.step <= 1;
    this.el.next.textContent = this.step < n ? t('lesson.next') : t('lesson.finish');
    this.el.back.textContent = t('lesson.back');
    this.el.close.title = t('lesson.close');
    this.el.close.setAttribute('aria-label', t('lesson.close'));
    this.el.panel.dataset.lesson = lesson.id;
    this.el.panel.dataset.step = String(this.step);
  }

  async showMenu() {
    this.el.dialog.showModal();
    if (this.menu) {
      this.renderMenu();
      return;
    }
    this.el.note.textContent = '…';
    try {
      this.menu = await lessonApi.list();
      this.renderMenu();
    } catch (err) {
      this.el.note.textContent = t('lesson.listFailed', { message: err.message });
    }
  }

  renderMenu() {
    const items = this.menu.map((entry) => {
      const item = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'lesson-choice';
      button.dataset.testid = `lesson-${entry.id}`;
      button.dataset.lesson = entry.id;
      const title = Object.assign(document.createElement('b'), { textContent: local(entry.title) });
      const meta = Object.assign(document.createElement('span'), {
        className: 'lesson-meta',
        textContent: t('lesson.steps', { n: entry.steps }),
      });
      const summary = Object.assign(document.createElement('span'), {
        className: 'lesson-summary',
        textContent: local(entry.summary),
      });
      button.append(title, meta, summary);
      button.classList.toggle('current', this.lesson?.id === entry.id);
      button.addEventListener('click', () => {
        this.el.dialog.close();
        this.open(entry.id, 1);
      });
      item.appendChild(button);
      return item;
    });
    this.el.list.replaceChildren(...items);
    this.el.note.textContent = this.menu.length ? '' : t('lesson.empty');
  }

  /** For tests: where the panel stands. */
  position() {
    return this.lesson ? { lesson_id: this.lesson.id, step: this.step, steps: this.lesson.steps.length } : null;
  }
}
