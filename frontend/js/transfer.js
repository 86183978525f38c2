// Export, import and run history (docs/protocol.md: Export, Import, Runs).
// Export downloads the session as a file; Import and a past run's Reopen give a new session,
// which the page adopts (App.adoptSession) as it adopts the one it starts with.

import { api, saveBlob } from './api.js';
import { formatFixed, formatPercent, language, t, tOr } from './i18n.js';

const $ = (id) => document.getElementById(id);

const FORMAT_NAMES = {
  pt: () => t('app.header.exportPt'),
  safetensors: () => 'safetensors',
  onnx: () => 'ONNX',
  python: () => t('app.export.pythonScript'),
  json: () => 'JSON',
};

const fmt = (v, digits = 3) => formatFixed(v, digits);

/** When, in words: "just now", "5 min ago", or the date and time. */
function when(seconds) {
  const ago = Date.now() / 1000 - seconds;
  if (ago < 45) return t('app.runs.justNow');
  if (ago < 3600) return t('app.runs.minutesAgo', { n: String(Math.round(ago / 60)) });
  return new Date(seconds * 1000).toLocaleString(language());
}

/** One line about a run's set-up: data set, layers, activation, optimiser, rate. */
export function runSummary(config) {
  const c = config || {};
  const layers = c.network?.hidden_layers || [];
  const parts = [
    c.data?.dataset ?? '?',
    layers.length ? t('app.runs.hidden', { layers: layers.join('-') }) : t('app.runs.noHidden'),
    c.network?.activation ?? '?',
    c.training?.optimizer ?? '?',
  ];
  if (typeof c.training?.learning_rate === 'number') parts.push(`lr ${String(c.training.learning_rate).replace('.', t('app.decimalMark'))}`);
  return parts.join(' · ');
}

export class Transfer {
  /**
   * @param {object} hooks
   *   session() -> {id, token} | null; adopt(created, how) adopts a new session;
   *   toast(text); status(text, level); maxUploadBytes (number | undefined)
   */
  constructor(hooks) {
    this.hooks = hooks;
    this.runs = [];
    this.runsFor = null; // the session id the list belongs to
    this.refreshing = null;

    // Export menu
    this.menu = $('export-menu');
    this.exportNote = $('export-note');
    for (const btn of this.menu.querySelectorAll('[data-format]')) {
      btn.addEventListener('click', () => this.exportAs(btn.dataset.format, btn));
    }
    document.addEventListener('click', (ev) => {
      if (this.menu.open && !this.menu.contains(ev.target)) this.menu.open = false;
    });
    this.menu.addEventListener('toggle', () => {
      if (this.menu.open) this.note('');
    });

    // Import
    this.file = $('import-file');
    this.file.addEventListener('change', () => this.importFile());

    // Runs
    this.dialog = $('runs-dialog');
    this.list = $('runs-list');
    this.runsNote = $('runs-note');
    $('runs-open').addEventListener('click', () => this.openRuns());
    $('runs-close').addEventListener('click', () => this.dialog.close());
    $('runs-refresh').addEventListener('click', () => this.refreshRuns());
  }

  /** The language changed: the run list and the export note are written again. */
  relabel() {
    this.render(this.message || '');
    if (this.noteText) this.note(this.noteText, this.exportNote.dataset.level);
  }

  /** The export menu's note; `text` may be a function, written again when the language changes. */
  note(text, level = 'info') {
    this.noteText = text;
    const shown = typeof text === 'function' ? text() : text;
    this.exportNote.textContent = shown;
    this.exportNote.dataset.level = level;
    this.exportNote.hidden = !shown;
  }

  async exportAs(format, btn) {
    const session = this.hooks.session();
    const name = () => FORMAT_NAMES[format]?.() || format;
    if (!session) {
      this.hooks.toast(t('app.status.noSession'));
      return;
    }
    btn.disabled = true;
    this.note(() => t('app.export.preparing', { name: name() }));
    try {
      const { blob, filename } = await api.exportFile(session.id, session.token, format);
      saveBlob(blob, filename);
      this.note('');
      this.menu.open = false;
      this.hooks.status(() => t('app.export.done', { filename }));
    } catch (err) {
      const text = () => t(err.status === 501 ? 'app.export.unavailable' : 'app.export.failed', { name: name(), message: err.message });
      this.note(text, 'error');
      this.hooks.toast(text());
    } finally {
      btn.disabled = false;
    }
  }

  async importFile() {
    const file = this.file.files && this.file.files[0];
    this.file.value = '';
    if (!file) return;
    const max = this.hooks.maxUploadBytes;
    if (max && file.size > max) {
      this.hooks.toast(t('app.import.tooLarge', { name: file.name, size: formatFixed(file.size / 1e6, 1), limit: formatFixed(max / 1e6, 1) }));
      return;
    }
    const isJson = /\.json$/i.test(file.name) || file.type === 'application/json';
    this.hooks.status(() => t('app.import.importing', { name: file.name }));
    try {
      const bytes = await file.arrayBuffer();
      const created = await api.importSession(bytes, isJson ? 'application/json' : 'application/octet-stream');
      this.hooks.adopt(created, t('app.import.imported', { name: file.name }));
    } catch (err) {
      this.hooks.status(() => t('app.import.failed', { message: err.message }), 'error');
      this.hooks.toast(t('app.import.couldNot', { name: file.name, message: err.message }));
    }
  }

  // ---- runs ------------------------------------------------------------------------------------

  openRuns() {
    if (typeof this.dialog.showModal === 'function') this.dialog.showModal();
    else this.dialog.setAttribute('open', '');
    this.refreshRuns();
  }

  /** Load this session's runs and draw them; answers how many there are (null on failure). */
  async refreshRuns() {
    const session = this.hooks.session();
    if (!session) {
      this.runs = [];
      this.render(() => t('app.status.noSession'));
      return null;
    }
    try {
      const answer = await api.runs(session.id, session.token);
      if (this.hooks.session()?.id !== session.id) return null; // adopted another meanwhile
      this.runs = answer.runs || [];
      this.runsFor = session.id;
      this.render();
      return this.runs.length;
    } catch (err) {
      if (this.hooks.session()?.id !== session.id) return null;
      // A session that never ended a run may have no history yet (404): nothing to list.
      this.runs = [];
      this.render(err.status === 404 ? '' : () => t('app.runs.loadFailed', { message: err.message }));
      return err.status === 404 ? 0 : null;
    }
  }

  /** A reset ended a run: it reaches the history as the reset completes, so look until it shows. */
  async afterReset() {
    const before = this.runsFor === this.hooks.session()?.id ? this.runs.length : -1;
    for (let i = 0; i < 8; i += 1) {
      const n = await this.refreshRuns();
      if (n !== null && (before < 0 ? n > 0 : n > before)) return;
      await new Promise((r) => setTimeout(r, 250 * (i + 1)));
    }
  }

  /** A new session took over: its history is its own. */
  sessionChanged() {
    this.runs = [];
    this.runsFor = this.hooks.session()?.id ?? null;
    this.render();
    if (this.dialog.open) this.refreshRuns();
  }

  /** Draw the runs; `message` (a function or '') is an error to show under them. */
  render(message = '') {
    this.message = message;
    this.list.replaceChildren();
    this.runs.forEach((run, i) => {
      const li = document.createElement('li');
      li.className = 'run';
      li.setAttribute('data-testid', `run-${i}`);
      const m = run.metrics || {};
      const main = document.createElement('div');
      main.className = 'run-main';
      const title = document.createElement('div');
      title.className = 'run-title';
      title.textContent = runSummary(run.config);
      const facts = document.createElement('div');
      facts.className = 'run-facts';
      const acc = typeof m.test_accuracy === 'number' ? ` · ${t('app.runs.testAccuracy')} ${formatPercent(m.test_accuracy, 1)}` : '';
      const stop = m.stop_reason ? ` · ${t('app.status.stopped', { reason: m.stop_reason })}` : '';
      const epochs = t(run.epochs === 1 ? 'app.runs.epoch' : 'app.runs.epochs', { n: String(run.epochs) });
      facts.textContent = `${epochs} · ${t('app.chart.testLoss')} ${fmt(m.test_loss)}${acc}${stop}`;
      const meta = document.createElement('div');
      meta.className = 'run-meta';
      const reason = tOr(`app.runs.reason.${run.reason}`, run.reason);
      meta.textContent = `${reason} ${when(run.created)}${run.has_weights ? '' : t('app.runs.noWeights')}`;
      meta.title = new Date(run.created * 1000).toLocaleString(language());
      main.append(title, facts, meta);
      const btn = document.createElement('button');
      btn.type = 'button';
      btn.className = 'text-btn apply-btn';
      btn.textContent = t('app.runs.reopen');
      btn.title = run.has_weights ? t('app.runs.reopenTitleWeights') : t('app.runs.reopenTitle');
      btn.setAttribute('data-testid', `run-reopen-${i}`);
      btn.addEventListener('click', () => this.reopen(run, btn));
      li.append(main, btn);
      this.list.appendChild(li);
    });
    this.runsNote.textContent = message ? message() : this.runs.length ? '' : t('app.runs.none');
    this.runsNote.dataset.level = message ? 'error' : 'info';
  }

  async reopen(run, btn) {
    const session = this.hooks.session();
    if (!session) return;
    btn.disabled = true;
    try {
      const created = await api.reopenRun(run.id, session.token);
      this.dialog.close();
      this.hooks.adopt(created, t('app.runs.reopened', { n: String(run.epochs) }));
    } catch (err) {
      this.runsNote.textContent = t('app.runs.reopenFailed', { message: err.message });
      this.runsNote.dataset.level = 'error';
      this.hooks.toast(t('app.runs.reopenFailedToast', { message: err.message }));
    } finally {
      btn.disabled = false;
    }
  }
}
