// Export, import and run history (docs/protocol.md: Export, Import, Runs).
// Export downloads the session as a file; Import and a past run's Reopen give a new session,
// which the page adopts (App.adoptSession) as it adopts the one it starts with.

import { api } from './api.js';

const $ = (id) => document.getElementById(id);

const FORMAT_NAMES = {
  pt: 'PyTorch checkpoint',
  safetensors: 'safetensors',
  onnx: 'ONNX',
  python: 'Python script',
  json: 'JSON',
};

/** Save a blob under a file name: a temporary <a download>. */
function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.hidden = true;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}

const fmt = (v, digits = 3) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '–');

/** When, in words: "just now", "5 min ago", or the date and time. */
function when(seconds) {
  const ago = Date.now() / 1000 - seconds;
  if (ago < 45) return 'just now';
  if (ago < 3600) return `${Math.round(ago / 60)} min ago`;
  return new Date(seconds * 1000).toLocaleString();
}

/** One line about a run's set-up: data set, layers, activation, optimiser, rate. */
export function runSummary(config) {
  const c = config || {};
  const layers = c.network?.hidden_layers || [];
  const parts = [
    c.data?.dataset ?? '?',
    layers.length ? `${layers.join('-')} hidden` : 'no hidden layer',
    c.network?.activation ?? '?',
    c.training?.optimizer ?? '?',
  ];
  if (typeof c.training?.learning_rate === 'number') parts.push(`lr ${c.training.learning_rate}`);
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

  note(text, level = 'info') {
    this.exportNote.textContent = text;
    this.exportNote.dataset.level = level;
    this.exportNote.hidden = !text;
  }

  async exportAs(format, btn) {
    const session = this.hooks.session();
    const name = FORMAT_NAMES[format] || format;
    if (!session) {
      this.hooks.toast('no session yet');
      return;
    }
    btn.disabled = true;
    this.note(`preparing the ${name}…`);
    try {
      const { blob, filename } = await api.exportFile(session.id, session.token, format);
      saveBlob(blob, filename);
      this.note('');
      this.menu.open = false;
      this.hooks.status(`exported ${filename}`);
    } catch (err) {
      const text = err.status === 501 ? `${name} export is not available on this server: ${err.message}` : `${name} export failed: ${err.message}`;
      this.note(text, 'error');
      this.hooks.toast(text);
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
      this.hooks.toast(`${file.name} is ${(file.size / 1e6).toFixed(1)} MB: over this server's limit of ${(max / 1e6).toFixed(1)} MB`);
      return;
    }
    const isJson = /\.json$/i.test(file.name) || file.type === 'application/json';
    this.hooks.status(`importing ${file.name}…`);
    try {
      const bytes = await file.arrayBuffer();
      const created = await api.importSession(bytes, isJson ? 'application/json' : 'application/octet-stream');
      this.hooks.adopt(created, `imported ${file.name}`);
    } catch (err) {
      this.hooks.status(`import failed: ${err.message}`, 'error');
      this.hooks.toast(`could not import ${file.name}: ${err.message}`);
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
      this.render('no session yet');
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
      this.render(err.status === 404 ? '' : `could not load the runs: ${err.message}`);
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

  render(message = '') {
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
      const acc = typeof m.test_accuracy === 'number' ? ` · test accuracy ${(m.test_accuracy * 100).toFixed(1)}%` : '';
      const stop = m.stop_reason ? ` · stopped: ${m.stop_reason}` : '';
      facts.textContent = `${run.epochs} epoch${run.epochs === 1 ? '' : 's'} · test loss ${fmt(m.test_loss)}${acc}${stop}`;
      const meta = document.createElement('div');
      meta.className = 'run-meta';
      meta.textContent = `${run.reason} ${when(run.created)}${run.has_weights ? '' : ' · weights not kept (set-up only)'}`;
      meta.title = new Date(run.created * 1000).toLocaleString();
      main.append(title, facts, meta);
      const btn = document.createElement('button');
      btn.type = 'button';
      btn.className = 'text-btn apply-btn';
      btn.textContent = 'Reopen';
      btn.title = run.has_weights ? 'A new session with this run’s set-up and final weights' : 'A new session with this run’s set-up';
      btn.setAttribute('data-testid', `run-reopen-${i}`);
      btn.addEventListener('click', () => this.reopen(run, btn));
      li.append(main, btn);
      this.list.appendChild(li);
    });
    this.runsNote.textContent =
      message || (this.runs.length ? '' : 'No past runs yet: a run is kept when you reset or change the set-up after training.');
    this.runsNote.dataset.level = message ? 'error' : 'info';
  }

  async reopen(run, btn) {
    const session = this.hooks.session();
    if (!session) return;
    btn.disabled = true;
    try {
      const created = await api.reopenRun(run.id, session.token);
      this.dialog.close();
      this.hooks.adopt(created, `reopened a run of ${run.epochs} epochs`);
    } catch (err) {
      this.runsNote.textContent = `could not reopen it: ${err.message}`;
      this.runsNote.dataset.level = 'error';
      this.hooks.toast(`could not reopen the run: ${err.message}`);
    } finally {
      btn.disabled = false;
    }
  }
}
