// The dashboard's "Start a lesson for everyone" control: a lessons menu (GET /api/lessons) in the
// page's language, a step, Start (POST /api/rooms/{code}/lesson), and the room's current lesson
// and step with Previous / Next step, which post the neighbouring step, and Stop the lesson
// (DELETE /api/rooms/{code}/lesson).

import { language, t } from './i18n.js';
import { lessonApi } from './lessons.js';
import { roomApi } from './roomapi.js';

const $ = (id) => document.getElementById(id);
const local = (text) => (text ? text[language()] || text.en || '' : '');

function option(value, text) {
  const el = document.createElement('option');
  el.value = value;
  el.textContent = text;
  return el;
}

export class RoomLessonControl {
  /**
   * @param {object} hooks
   *   auth() -> {code, token}; room() -> the RoomOut shown (its `lesson` is {lesson_id, step} | null);
   *   started(room): the RoomOut a start answered; toast(text).
   */
  constructor(hooks) {
    this.hooks = hooks;
    this.lessons = []; // [{id, title: {en, es}, steps: n, ...}] in course order
    this.followed = ''; // "id:step" of the room lesson the selectors last moved to
    this.busy = false; // a start or stop is on its way: no second one meanwhile
    this.el = {
      box: $('room-lesson'),
      choice: $('room-lesson-choice'),
      step: $('room-lesson-step'),
      start: $('room-lesson-start'),
      current: $('room-lesson-current'),
      prev: $('room-lesson-prev'),
      next: $('room-lesson-next'),
      stop: $('room-lesson-stop'),
    };
    this.el.choice.addEventListener('change', () => this.renderSteps());
    this.el.start.addEventListener('click', () => this.start(this.el.choice.value, Number(this.el.step.value)));
    this.el.prev.addEventListener('click', () => this.move(-1));
    this.el.next.addEventListener('click', () => this.move(1));
    this.el.stop.addEventListener('click', () => this.stop());
  }

  async load() {
    try {
      this.lessons = await lessonApi.list();
    } catch (err) {
      this.lessons = [];
      this.hooks.toast(t('room.lesson.listFailed', { message: err.message }));
    }
    this.el.box.hidden = false;
    this.relabel();
  }

  find(id) {
    return this.lessons.find((l) => l.id === id) || null;
  }

  /** Titles and step labels again, in the page's language, keeping what is chosen. */
  relabel() {
    const chosen = this.el.choice.value;
    this.el.choice.replaceChildren(...this.lessons.map((l) => option(l.id, local(l.title))));
    if (this.find(chosen)) this.el.choice.value = chosen;
    this.renderSteps();
    this.render();
  }

  /** Step numbers 1..n of the chosen lesson. */
  renderSteps() {
    const n = this.find(this.el.choice.value)?.steps ?? 0;
    const chosen = Number(this.el.step.value) || 1;
    const steps = Array.from({ length: n }, (_, i) => option(String(i + 1), t('room.lesson.stepOption', { k: i + 1, n })));
    this.el.step.replaceChildren(...steps);
    if (chosen <= n) this.el.step.value = String(chosen);
  }

  /** The room's lesson (from RoomOut or a roster frame); the selectors move to it when it changes. */
  render() {
    const room = this.hooks.room();
    const current = room?.lesson || null;
    const key = current ? `${current.lesson_id}:${current.step}` : '';
    if (key !== this.followed && (!current || this.find(current.lesson_id))) {
      this.followed = key;
      if (current) {
        this.el.choice.value = current.lesson_id;
        this.renderSteps();
        this.el.step.value = String(current.step);
      }
    }
    const lesson = current ? this.find(current.lesson_id) : null;
    const n = lesson?.steps ?? 0;
    let text = t('room.lesson.none');
    if (!this.lessons.length) text = t('room.lesson.empty');
    else if (current) {
      text = t('room.lesson.current', { title: lesson ? local(lesson.title) : current.lesson_id, k: current.step, n: n || '?' });
    }
    this.el.current.textContent = text;
    this.el.current.dataset.lesson = current?.lesson_id ?? '';
    this.el.current.dataset.step = current ? String(current.step) : '';
    const off = room?.status === 'closed' || this.busy;
    this.el.start.disabled = off || !this.lessons.length;
    this.el.prev.hidden = this.el.next.hidden = this.el.stop.hidden = !current;
    this.el.prev.disabled = off || !current || current.step <= 1;
    this.el.next.disabled = off || !current || !n || current.step >= n;
    this.el.stop.disabled = off || !current;
  }

  /** Previous / Next step of the room's lesson. */
  move(delta) {
    const current = this.hooks.room()?.lesson;
    if (current) this.start(current.lesson_id, current.step + delta);
  }

  /** Stop the lesson: the room has none; students' panels close, their sessions stay. */
  async stop() {
    if (this.busy || !this.hooks.room()?.lesson) return;
    const { code, token } = this.hooks.auth();
    this.busy = true;
    this.render();
    try {
      this.hooks.started(await roomApi.stopLesson(code, token));
      this.hooks.toast(t('room.lesson.stopped'));
    } catch (err) {
      this.hooks.toast(t('room.actions.failed', { message: err.message }));
    } finally {
      this.busy = false;
      this.render();
    }
  }

  async start(lessonId, step) {
    const lesson = this.find(lessonId);
    if (!lesson || this.busy || !(step >= 1 && step <= lesson.steps)) return;
    const { code, token } = this.hooks.auth();
    this.busy = true;
    this.render();
    try {
      const room = await roomApi.startLesson(code, token, lessonId, step);
      this.hooks.started(room);
      this.hooks.toast(t('room.lesson.started', { k: step, title: local(lesson.title), n: room.students?.length ?? 0 }));
    } catch (err) {
      this.hooks.toast(t('room.actions.failed', { message: err.message }));
    } finally {
      this.busy = false;
      this.render();
    }
  }
}
