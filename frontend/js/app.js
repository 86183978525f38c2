// Boot and wiring: read the URL, create a session, stream it, and route changes both ways.
// All page state belongs to one App object (exposed read-only to tests as window.nnpg).

import { api, ApiError } from './api.js';
import { Charts, classColor } from './charts.js';
import { CompareView } from './compare.js';
import { Controls } from './controls.js';
import { CsvUpload, PlaneSelector, PointEditor } from './datatools.js';
import { DiagnosticsView } from './diagnostics.js';
import { LANGUAGES, browserLanguage, language, onLanguageChange, setLanguage, t } from './i18n.js';
import { LessonPanel } from './lessons.js';
import { LrFinder } from './lrfinder.js';
import { MetricsView } from './metrics.js';
import { NetworkDiagram } from './network.js';
import { RoomClient } from './room.js';
import { SessionSocket } from './socket.js';
import { State } from './state.js';
import { Tabs } from './tabs.js';
import { TfImportDialog } from './tfimport.js';
import { Transfer } from './transfer.js';

const $ = (id) => document.getElementById(id);

// Used only if the catalog carries no default config (it should: catalog.defaults).
const FALLBACK_DEFAULTS = {
  problem: 'classification',
  data: { dataset: 'circle', noise: 0, train_ratio: 0.5, num_points: 500, seed: 0 },
  features: ['x1', 'x2'],
  network: { hidden_layers: [4, 2], activation: 'tanh' },
  training: {
    optimizer: 'sgd',
    learning_rate: 0.03,
    batch_size: 10,
    regularization: 'none',
    regularization_rate: 0,
    loss: null,
  },
};

class App {
  constructor() {
    this.catalog = null;
    this.state = null;
    this.session = null; // {id, token}
    this.socket = null;
    this.serverConfig = null; // the last config the server confirmed
    this.sessionState = null;
    this.lastHeader = null;
    this.framesReceived = 0;
    this.datasetVersion = null;
    this.pendingFrame = null;
    this.drawScheduled = false;
    this.streamFps = null;
    this.lastRestart = 0;
    this.latestFrame = null; // the newest decoded frame drawn ({header, arrays})
    this.dataset = null; // the newest dataset message
  }

  async boot() {
    // The language first (the URL's `lang=`, else the browser's): every label below uses it.
    await setLanguage(hashLanguage(location.hash) || browserLanguage());
    this.bindLanguageMenu();
    this.status(() => t('app.status.loadingCatalog'));
    this.catalog = await api.catalog();
    const defaults = this.catalog.defaults || this.catalog.default_config || FALLBACK_DEFAULTS;
    this.state = new State(defaults);
    const unread = this.state.readHash(location.hash, (p) => this.defaultDatasetFor(p));
    this.state.set('lang', language());
    if (unread.length) this.toast(t('app.toast.unreadableUrl', { keys: unread.join(', ') }));

    this.charts = new Charts({
      heatmap: $('heatmap'),
      loss: $('loss-chart'),
      confusionTrain: $('confusion-train'),
      confusionTest: $('confusion-test'),
      legend: $('legend'),
      legendClasses: $('legend-classes'),
    });
    const hooks = {
      onChange: (names) => this.changed(names),
      onCommand: (type) => this.command(type),
      onUi: (name) => this.uiChanged(name),
      // Controls a teacher locked stay disabled whatever a render decides (room.js).
      onRender: () => this.room?.applyLocks(),
    };
    this.controls = new Controls(this.catalog, this.state, hooks);
    this.network = new NetworkDiagram(this.catalog, this.state, {
      ...hooks,
      setWeight: (edit) => {
        if (!this.socket) return false;
        this.socket.send(edit);
        this.status(() => t('app.status.weightSet', { value: edit.value }));
        return true;
      },
    });
    this.lrFinder = new LrFinder({
      send: (msg) => {
        if (!this.socket) return false;
        this.socket.send(msg);
        return true;
      },
      apply: (rate) => this.applyLearningRate(rate),
      draw: (el, result) => this.charts.drawLrFinder(el, result),
    });
    this.tabs = new Tabs($('tabs'), (name) => this.tabShown(name));
    this.metrics = new MetricsView({
      load: () => (this.session ? api.metrics(this.session.id, this.session.token) : Promise.resolve(null)),
      changeKey: () => `${this.session?.id}:${this.lastHeader?.seq ?? -1}:${this.datasetVersion}`,
      isShown: (tab) => this.tabs.isShown(tab),
    });
    this.diagnostics = new DiagnosticsView({
      load: () => (this.session ? api.diagnostics(this.session.id, this.session.token) : Promise.resolve(null)),
      changeKey: () => `${this.session?.id}:${this.lastHeader?.seq ?? -1}:${this.datasetVersion}`,
      isShown: () => this.tabs.isShown('diagnostics'),
    });
    this.compare = new CompareView({
      frame: () => this.latestFrame,
      dataset: () => this.dataset,
      problem: () => this.state.get('problem'),
      config: () => this.serverConfig,
      isShown: () => this.tabs.isShown('compare'),
      onPin: (on) => {
        if (on) this.toast(t('app.toast.pinned'));
      },
    });
    this.points = new PointEditor({
      el: $('heatmap'),
      send: (msg) => {
        if (!this.socket) return false;
        this.socket.send(msg);
        return true;
      },
      classes: () => this.controls.numClasses(),
      problem: () => this.state.get('problem'),
      points: () => this.dataset,
      toast: (text) => this.toast(text),
    });
    this.upload = new CsvUpload({
      maxBytes: this.catalog.limits?.max_upload_bytes,
      upload: (text, opts) => {
        if (!this.session) return Promise.reject(new Error(t('app.status.noSession')));
        return api.uploadCsv(this.session.id, this.session.token, text, opts);
      },
    });
    this.plane = new PlaneSelector({
      send: (plane) => {
        if (!this.socket) return;
        this.socket.send({ type: 'update', config: { data: { plane } } });
        this.status(() => t('app.status.otherPlane'));
      },
    });
    this.tfImport = new TfImportDialog(this.catalog, (values, result) => this.importTf(values, result));
    this.transfer = new Transfer({
      session: () => this.session,
      adopt: (created, how) => this.adoptSession(created, how),
      toast: (text) => this.toast(text),
      status: (text, level) => this.status(text, level),
      maxUploadBytes: this.catalog.limits?.max_upload_bytes,
    });
    this.charts.problem = this.state.get('problem');
    this.charts.setShowTest(this.state.get('show_test'));
    this.charts.setDiscretize(this.state.get('discretize'));
    this.showProblem();
    this.showClasses();
    onLanguageChange(() => this.relabel());

    window.addEventListener('hashchange', () => this.hashEdited());
    window.addEventListener('pagehide', () => this.endSession());
    window.addEventListener('pageshow', (ev) => {
      // Back from the back/forward cache: the old session was deleted on pagehide.
      if (ev.persisted) location.reload();
    });
    document.addEventListener('keydown', (ev) => {
      if (ev.key === ' ' && ev.target === document.body) {
        ev.preventDefault();
        $('play-pause').click();
      }
    });

    // Lessons: made before the session starts, so the panel sees the URL as it came.
    this.lessons = new LessonPanel({
      session: () => this.session,
      applyConfig: (config) => this.applyConfig(config),
      command: (type) => this.command(type),
      setPosition: (lessonId, step) => {
        this.state.set('lesson', lessonId);
        this.state.set('step', lessonId ? String(step) : '');
        this.writeHash();
      },
      toast: (text) => this.toast(text),
    });

    // A classroom link (#room=CODE): join (or rejoin) that room's session instead of a new one.
    this.room = new RoomClient({
      catalog: this.catalog,
      adopt: (created) => this.adoptSession(created),
      refresh: () => this.refreshSession(),
      rerender: () => {
        this.controls.render();
        this.network.render();
      },
      setRoomHash: (code) => {
        this.state.set('room', code);
        this.writeHash();
      },
      toast: (text) => this.toast(text),
    });
    if (!(await this.room.boot(this.state.get('room')))) {
      this.state.set('room', '');
      await this.startSession();
    }
  }

  /** The server changed our session behind our back (a fork): show its config and state again. */
  async refreshSession() {
    if (!this.session) return;
    const fresh = await api.getSession(this.session.id, this.session.token);
    this.charts.clearHistory();
    this.adoptConfig(fresh.config);
    this.showSessionState(fresh.state);
  }

  /** Data of more than two columns: its columns are the inputs; the plane shows two of them. */
  showDataShape(msg) {
    const columns = msg.columns && msg.columns.length > 2 ? msg.columns : null;
    this.plane.setDataset(msg);
    this.network.setColumns(columns);
    this.network.setPlane(columns ? this.plane.plane : null);
    this.metrics.classNames = msg.class_names || null;
    this.points.setEnabled(!columns);
    this.charts.setAxisTitles(columns ? this.plane.titles() : null);
    document.body.classList.toggle('tabular', Boolean(columns));
  }

  /** An output tab came into view. */
  tabShown(name) {
    this.charts.setHeatmapVisible(name === 'boundary');
    if (name === 'metrics' || name === 'curves') this.metrics.shown();
    if (name === 'diagnostics') this.diagnostics.shown();
    if (name === 'compare') this.compare.shown();
  }

  defaultDatasetFor(problem) {
    const d = this.catalog.datasets.find((x) => x.problem === problem);
    return d ? d.name : 'circle';
  }

  /** POST /api/sessions with the page's config; if the server refuses it, start from defaults. */
  async startSession() {
    this.status(() => t('app.status.creatingSession'));
    let created;
    try {
      created = await api.createSession(this.state.config());
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 422) {
        this.status(() => t('app.status.createFailed', { message: err.message }), 'error');
        this.toast(t('app.status.createFailed', { message: err.message }));
        return;
      }
      this.toast(t('app.toast.urlRefused', { message: err.message }));
      this.state.setConfig(this.state.defaults);
      try {
        created = await api.createSession(this.state.config());
      } catch (err2) {
        this.status(() => t('app.status.createFailed', { message: err2.message }), 'error');
        return;
      }
    }
    this.connectSession(created);
  }

  /**
   * Another session takes over (an import, a reopened run): the old one's stream closes and the
   * session goes (best effort; its runs stay in its history), and the page shows the new one.
   */
  adoptSession(created, how = '') {
    const old = this.session;
    const oldSocket = this.socket;
    this.session = null;
    this.socket = null;
    oldSocket?.close();
    // A classroom session is not the page's to delete; leaving it (an import, a reopened run)
    // leaves its room.
    if (old && !this.room?.keepsSession()) api.deleteSession(old.id, old.token);
    if (how) this.room?.leave();
    this.sessionState = null;
    this.lastHeader = null;
    this.charts.clearHistory();
    this.connectSession(created);
    if (how) this.toast(t('app.toast.adopted', { how, id: created.id.slice(0, 8), epoch: String(created.state?.epoch ?? 0) }));
  }

  /** Show a session the server made ({id, token, config, state}) and stream it. */
  connectSession(created) {
    this.session = { id: created.id, token: created.token };
    this.transfer?.sessionChanged();
    this.metrics?.reset();
    this.diagnostics?.reset();
    this.adoptConfig(created.config);
    this.showSessionState(created.state);
    this.socket = new SessionSocket(created.id, created.token, {
      onOpen: () => {
        this.status(() => t('app.status.connected', { id: created.id.slice(0, 8) }));
        // Every neuron's map over the plane, for the network diagram.
        this.socket?.send({ type: 'views', neurons: true });
      },
      // A stream of a session the page has left (import, reopen) shows nothing any more.
      onMessage: (msg) => {
        if (this.session?.id === created.id) this.message(msg);
      },
      onFrame: (frame) => {
        if (this.session?.id === created.id) this.frame(frame);
      },
      onClose: ({ code, reason, willRetry }) => {
        if (willRetry) this.status(() => t('app.status.reconnecting'), 'warn');
        else if (code === 4404 && this.session?.id === created.id) this.sessionLost();
        else if (code !== 1000) this.status(() => t('app.status.disconnected', { code: String(code), reason: reason ? `: ${reason}` : '' }), 'error');
      },
    });
    this.lessons?.sessionReady();
  }

  /** The server forgot our session (restarted, or deleted it): start a new one, same set-up. */
  sessionLost() {
    const now = Date.now();
    if (this.lastRestart && now - this.lastRestart < 10_000) {
      this.status(() => t('app.status.sessionEnded'), 'error');
      return;
    }
    this.lastRestart = now;
    this.toast(t('app.toast.sessionRestarted'));
    this.socket = null;
    this.session = null;
    this.startSession();
  }

  endSession() {
    if (!this.session) return;
    this.socket?.close();
    // A room's session outlives the page: the student comes back to it.
    if (this.room?.keepsSession()) return;
    api.deleteSession(this.session.id, this.session.token);
    this.session = null;
  }

  /** The server's config is the truth: show it in the controls and the URL. */
  adoptConfig(config) {
    this.serverConfig = config;
    const before = this.state.get('problem');
    this.state.setConfig(config);
    this.controls.render();
    this.network.render();
    this.writeHash();
    if (before !== this.state.get('problem')) this.showProblem();
    this.showClasses();
    this.points?.render();
  }

  /** K classes: the heatmap's palette and the output neuron's colours. */
  showClasses() {
    const k = this.controls.numClasses();
    this.charts.setClasses(k);
    const out = $('output-neuron');
    if (k > 2) {
      const stops = Array.from({ length: k }, (_, i) => `${classColor(i)} ${(i * 100) / k}% ${((i + 1) * 100) / k}%`);
      out.style.background = `conic-gradient(${stops.join(', ')})`;
      out.title = t('app.network.outputSoftmax', { k });
    } else {
      out.style.background = '';
      out.title = t('app.network.output');
    }
  }

  showProblem() {
    const regression = this.state.get('problem') === 'regression';
    this.charts.setProblem(this.state.get('problem'));
    $('confusion').hidden = regression;
    $('confusion-note').hidden = !regression;
    document.body.classList.toggle('regression', regression);
  }

  writeHash() {
    const hash = `#${this.state.toHash()}`;
    if (location.hash !== hash) history.replaceState(null, '', hash);
  }

  /** A control changed these settings: tell the server (it answers with `config`). */
  changed(names) {
    this.writeHash();
    if (names.includes('problem')) this.showProblem();
    // Controls in one place depend on settings made in another (leaky slope, per-layer menus).
    this.controls.render();
    if (names.some((n) => ['activation', 'layer_act', 'hidden'].includes(n))) this.network.render();
    if (!this.socket) return;
    this.socket.send({ type: 'update', config: this.state.partial(names) });
    this.status(() => (State.isLive(names) ? t('app.status.updated') : t('app.status.startingOver')));
  }

  /** Apply a learning rate found by the range test (added to the menu if it lacks it). */
  applyLearningRate(rate) {
    this.state.set('lr', rate);
    this.controls.render();
    this.changed(['lr']);
  }

  uiChanged(name) {
    this.writeHash();
    if (name === 'show_test') this.charts.setShowTest(this.state.get('show_test'));
    if (name === 'discretize') this.charts.setDiscretize(this.state.get('discretize'));
  }

  command(type) {
    if (!this.socket) {
      this.toast(t('app.status.noSession'));
      return;
    }
    this.socket.send({ type });
  }

  /** Someone edited the URL by hand: apply what differs. */
  hashEdited() {
    const wanted = new State(this.state.defaults);
    wanted.readHash(location.hash, (p) => this.defaultDatasetFor(p));
    this.applyWanted(wanted);
  }

  /** A TensorFlow Playground link's set-up (State values over the defaults, tfimport.js). */
  importTf(values, result) {
    const wanted = new State(this.state.defaults);
    for (const [name, v] of Object.entries(values)) wanted.set(name, v);
    this.applyWanted(wanted);
    this.writeHash();
    const n = result?.warnings?.length || 0;
    const warn = n ? t(n > 1 ? 'app.toast.warnings' : 'app.toast.warning', { n, list: result.warnings.join('; ') }) : '';
    this.toast(t('app.toast.tfImported', { warn }));
  }

  /** Load a full SessionConfig (a lesson step's) as if the controls had set it. */
  applyConfig(config) {
    const wanted = new State(this.state.defaults);
    Object.assign(wanted.values, this.state.values); // page-only settings stay as they are
    wanted.setConfig(config);
    this.applyWanted(wanted);
  }

  /** Move the page to the set-up `wanted` holds: change what differs, tell the server. */
  applyWanted(wanted) {
    // A set-up without a language (a URL without lang=, an imported link) keeps the current one.
    if (!wanted.get('lang')) wanted.set('lang', language());
    const names = [];
    for (const name of Object.keys(wanted.values)) {
      if (JSON.stringify(wanted.get(name)) !== JSON.stringify(this.state.get(name))) {
        this.state.set(name, wanted.get(name));
        names.push(name);
      }
    }
    if (!names.length) return;
    this.controls.render();
    this.network.render();
    const pageOnly = ['show_test', 'discretize', 'lang', 'room', 'lesson', 'step'];
    const server = names.filter((n) => !pageOnly.includes(n));
    if (names.includes('lesson') || names.includes('step')) this.lessons?.fromHash(wanted.get('lesson'), wanted.get('step'));
    if (names.includes('room')) this.room?.hashChanged(wanted.get('room'));
    if (names.includes('lang')) this.switchLanguage(wanted.get('lang'));
    if (names.includes('show_test')) this.uiChanged('show_test');
    if (names.includes('discretize')) this.uiChanged('discretize');
    if (server.length) this.changed(server);
  }

  message(msg) {
    switch (msg.type) {
      case 'hello':
        this.streamFps = msg.stream_fps;
        this.adoptConfig(msg.config);
        this.showSessionState(msg.state);
        break;
      case 'dataset':
        this.datasetVersion = msg.version;
        this.dataset = msg;
        this.charts.setDataset(msg, this.state.get('problem'));
        this.network.setDataset(msg.train, this.state.get('problem'));
        this.controls.dataClasses = typeof msg.classes === 'number' ? msg.classes : null;
        this.controls.render();
        this.showClasses();
        this.showDataShape(msg);
        break;
      case 'config': {
        const reinit = msg.state && msg.state.epoch === 0;
        this.adoptConfig(msg.config);
        this.showSessionState(msg.state);
        if (reinit) this.charts.clearHistory();
        this.status(() => t('app.status.connected', { id: this.session?.id.slice(0, 8) ?? '' }));
        break;
      }
      case 'room':
        this.room?.message(msg);
        if ('lesson' in msg) this.lessons?.follow(msg.lesson);
        break;
      case 'lr_range_test':
        this.lrFinder.message(msg);
        break;
      case 'error': {
        // A refused range test (e.g. a server without it) belongs to its panel, not the config.
        if (this.lrFinder.running && this.isRangeTestError(msg)) {
          this.lrFinder.fail(msg.message);
          break;
        }
        const loc = Array.isArray(msg.loc) ? msg.loc.join('.') : '';
        const where = loc && !String(msg.message).includes(loc) ? ` (${loc})` : '';
        this.toast(`${msg.message}${where}`);
        this.status(() => t('app.status.error', { message: msg.message }), 'error');
        // Our optimistic change was refused: go back to what the server has.
        if (this.serverConfig) this.adoptConfig(this.serverConfig);
        break;
      }
      default:
        break;
    }
  }

  isRangeTestError(msg) {
    const loc = Array.isArray(msg.loc) ? msg.loc : [];
    const text = String(msg.message || '');
    return loc[0] === 'type' || loc.includes('lr_range_test') || /lr_range_test|range test|range_test/i.test(text);
  }

  frame(frame) {
    this.framesReceived += 1;
    this.lastHeader = frame.header;
    this.showSessionState(frame.header.state);
    this.pendingFrame = frame;
    if (!this.drawScheduled) {
      this.drawScheduled = true;
      requestAnimationFrame(() => {
        this.drawScheduled = false;
        const f = this.pendingFrame;
        this.pendingFrame = null;
        if (f) {
          this.latestFrame = f;
          this.charts.render(f);
          this.compare.frame();
          this.network.valueRange = f.header.grid?.value_range;
          this.network.extent = f.header.grid?.extent;
          this.network.setFrame(f.header, f.arrays);
        }
      });
    }
  }

  showSessionState(st) {
    if (!st) return;
    const before = this.sessionState;
    // A reset (or a new set-up) after training ended a run: it goes to the run history.
    if (before && before.epoch > 0 && st.epoch === 0) this.transfer?.afterReset();
    if (st.stop_reason && (!before || before.stop_reason !== st.stop_reason)) {
      this.toast(t('app.toast.stopped', { reason: stopReasonText(st.stop_reason) }));
      this.status(() => t('app.status.stopped', { reason: stopReasonText(st.stop_reason) }), 'warn');
    }
    this.sessionState = st;
    this.controls.showState(st);
    // Why training paused by itself stays in view until it runs again.
    const banner = $('stop-reason');
    const reason = !st.running && st.stop_reason ? st.stop_reason : '';
    if (banner.dataset.reason !== reason || banner.dataset.lang !== language()) {
      banner.dataset.reason = reason;
      banner.dataset.lang = language();
      banner.textContent = reason ? t('app.output.stoppedBanner', { reason: stopReasonText(reason) }) : '';
      banner.hidden = !reason;
      banner.classList.toggle('diverged', /diverg/i.test(reason));
    }
  }

  /** The status line; `text` may be a function, evaluated again when the language changes. */
  status(text, level = 'info') {
    const el = $('status');
    this.statusText = text;
    el.textContent = typeof text === 'function' ? text() : text;
    el.dataset.level = level;
  }

  /** The header's language menu: the URL keeps the choice (`lang=`). */
  bindLanguageMenu() {
    const menu = $('language');
    if (!menu) return;
    menu.value = language();
    menu.addEventListener('change', () => this.switchLanguage(menu.value));
  }

  /** Show the page in another language; the session and its training go on untouched. */
  async switchLanguage(code) {
    if (!LANGUAGES.includes(code) || code === language()) return;
    await setLanguage(code);
    if (this.state) {
      this.state.set('lang', code);
      this.writeHash();
    }
  }

  /** After a language change: every view writes its text again. */
  relabel() {
    const menu = $('language');
    if (menu) menu.value = language();
    if (this.statusText) this.status(this.statusText, $('status').dataset.level);
    if (!this.state) return;
    this.controls.relabel();
    this.network.render();
    this.charts.relabel();
    this.metrics.relabel();
    this.diagnostics.relabel();
    this.compare.relabel();
    this.lrFinder.relabel();
    this.points.relabel();
    this.upload.relabel();
    this.transfer.relabel();
    this.tfImport.relabel?.();
    this.showClasses();
    if (this.sessionState) this.showSessionState(this.sessionState);
  }

  toast(text) {
    const box = $('toasts');
    const item = document.createElement('div');
    item.className = 'toast';
    item.setAttribute('role', 'alert');
    item.textContent = text;
    const close = document.createElement('button');
    close.className = 'toast-close';
    close.textContent = '×';
    close.setAttribute('aria-label', t('app.toast.dismiss'));
    close.addEventListener('click', () => item.remove());
    item.appendChild(close);
    box.appendChild(item);
    while (box.children.length > 4) box.firstChild.remove();
    setTimeout(() => item.remove(), 8000);
  }
}

/** The `lang=` of a URL hash, if it names one of ours. */
function hashLanguage(hash) {
  const match = /(?:^#?|&)lang=([a-z]{2})/i.exec(hash || '');
  const code = match ? match[1].toLowerCase() : '';
  return LANGUAGES.includes(code) ? code : '';
}

// The server's stop reasons (engine/session.py), in the page's language.
const STOP_REASONS = [
  [/^max epochs reached \((\d+)\)/, 'maxEpochs', ['n']],
  [/^target loss reached: test loss (\S+) ≤ (\S+)/, 'targetLoss', ['loss', 'target']],
  [/^target accuracy reached: test accuracy (\S+)/, 'targetAccuracy', ['accuracy']],
  [/^plateau: the training loss has not improved for (\d+) epochs/, 'plateau', ['n']],
  [/^early stopping: the validation loss has not improved for (\d+) epochs; restored the weights of epoch (\d+)/, 'earlyStopping', ['n', 'epoch']],
  [/^diverged: the loss became NaN/, 'divergedNan', []],
  [/^diverged: the loss exploded/, 'divergedExploded', []],
];

function stopReasonText(reason) {
  for (const [pattern, key, names] of STOP_REASONS) {
    const m = pattern.exec(reason);
    if (m) {
      const vars = Object.fromEntries(names.map((n, i) => [n, m[i + 1].replace('.', t('app.decimalMark'))]));
      return t(`app.stopReason.${key}`, vars);
    }
  }
  return reason;
}

const app = new App();
const copy = (v) => (v == null ? v : JSON.parse(JSON.stringify(v)));
// Read-only hooks for tests and curious people.
window.nnpg = Object.freeze({
  config: () => (app.state ? app.state.config() : null),
  serverConfig: () => copy(app.serverConfig),
  lastFrame: () => copy(app.lastHeader),
  framesReceived: () => app.framesReceived,
  sessionState: () => copy(app.sessionState),
  datasetVersion: () => app.datasetVersion,
  dataset: () => copy(app.dataset),
  sessionId: () => app.session?.id ?? null,
  runs: () => copy(app.transfer?.runs ?? null),
  lrRangeTest: () => copy(app.lrFinder?.result ?? null),
  metrics: () => copy(app.metrics?.metrics ?? null),
  /** W{layer}[from][to] of the newest frame drawn (from null: the bias b{layer}[to]). */
  weight: (layer, from, to) => app.network?.weight(layer, from, to) ?? null,
  neuronMapsDrawn: () => Boolean(app.network?.mapsDrawn),
  diagnostics: () => copy(app.diagnostics?.data ?? null),
  pinned: () =>
    app.compare?.pinned
      ? { epochs: app.compare.pinned.history.epoch.length, boundary: Boolean(app.compare.pinned.boundary), config: copy(app.compare.pinned.config) }
      : null,
  tab: () => app.tabs?.current ?? null,
  lesson: () => copy(app.lessons?.position() ?? null),
});

app.boot().catch((err) => {
  console.error(err);
  app.status(() => t('app.status.startFailed', { message: err.message }), 'error');
  app.toast(t('app.status.startFailed', { message: err.message }));
});
