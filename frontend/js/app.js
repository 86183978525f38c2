// Boot and wiring: read the URL, create a session, stream it, and route changes both ways.
// All page state belongs to one App object (exposed read-only to tests as window.nnpg).

import { api } from './api.js';
import { sessionLifecycle } from './appsession.js';
import { hashLanguage, settingsWiring } from './appsettings.js';
import { streamHandling } from './appstream.js';
import { Charts } from './charts.js';
import { classColor } from './colours.js';
import { CompareView } from './compare.js';
import { Controls } from './controls.js';
import { CsvUpload, PlaneSelector, PointEditor } from './datatools.js';
import { DiagnosticsView } from './diagnostics.js';
import { browserLanguage, language, onLanguageChange, setLanguage, t } from './i18n.js';
import { LessonPanel } from './lessons.js';
import { LrFinder } from './lrfinder.js';
import { MetricsView } from './metrics.js';
import { NetworkDiagram } from './network.js';
import { RoomClient } from './room.js';
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

  /** The status line; `text` may be a function, evaluated again when the language changes. */
  status(text, level = 'info') {
    const el = $('status');
    this.statusText = text;
    el.textContent = typeof text === 'function' ? text() : text;
    el.dataset.level = level;
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

// App's session lifecycle, stream handling and settings wiring live in their own modules.
Object.assign(App.prototype, sessionLifecycle, streamHandling, settingsWiring);

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
