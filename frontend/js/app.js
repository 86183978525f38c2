// Boot and wiring: read the URL, create a session, stream it, and route changes both ways.
// All page state belongs to one App object (exposed read-only to tests as window.nnpg).

import { api, ApiError } from './api.js';
import { Charts, classColor } from './charts.js';
import { CompareView } from './compare.js';
import { Controls } from './controls.js';
import { CsvUpload, PlaneSelector, PointEditor } from './datatools.js';
import { DiagnosticsView } from './diagnostics.js';
import { LrFinder } from './lrfinder.js';
import { MetricsView } from './metrics.js';
import { NetworkDiagram } from './network.js';
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
    this.status('loading catalog…');
    this.catalog = await api.catalog();
    const defaults = this.catalog.defaults || this.catalog.default_config || FALLBACK_DEFAULTS;
    this.state = new State(defaults);
    const unread = this.state.readHash(location.hash, (p) => this.defaultDatasetFor(p));
    if (unread.length) this.toast(`ignored unreadable URL settings: ${unread.join(', ')}`);

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
    };
    this.controls = new Controls(this.catalog, this.state, hooks);
    this.network = new NetworkDiagram(this.catalog, this.state, {
      ...hooks,
      setWeight: (edit) => {
        if (!this.socket) return false;
        this.socket.send(edit);
        this.status(`weight set to ${edit.value}`);
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
        if (on) this.toast('run pinned: change something, then open Compare');
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
      toast: (t) => this.toast(t),
    });
    this.upload = new CsvUpload({
      maxBytes: this.catalog.limits?.max_upload_bytes,
      upload: (text, opts) => {
        if (!this.session) return Promise.reject(new Error('no session yet'));
        return api.uploadCsv(this.session.id, this.session.token, text, opts);
      },
    });
    this.plane = new PlaneSelector({
      send: (plane) => {
        if (!this.socket) return;
        this.socket.send({ type: 'update', config: { data: { plane } } });
        this.status('showing another plane…');
      },
    });
    this.tfImport = new TfImportDialog(this.catalog, (values, result) => this.importTf(values, result));
    this.transfer = new Transfer({
      session: () => this.session,
      adopt: (created, how) => this.adoptSession(created, how),
      toast: (t) => this.toast(t),
      status: (t, level) => this.status(t, level),
      maxUploadBytes: this.catalog.limits?.max_upload_bytes,
    });
    this.charts.problem = this.state.get('problem');
    this.charts.setShowTest(this.state.get('show_test'));
    this.charts.setDiscretize(this.state.get('discretize'));
    this.showProblem();
    this.showClasses();

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

    await this.startSession();
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
    this.status('creating session…');
    let created;
    try {
      created = await api.createSession(this.state.config());
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 422) {
        this.status(`could not create a session: ${err.message}`, 'error');
        this.toast(`could not create a session: ${err.message}`);
        return;
      }
      this.toast(`the URL's set-up was refused (${err.message}); using the defaults`);
      this.state.setConfig(this.state.defaults);
      try {
        created = await api.createSession(this.state.config());
      } catch (err2) {
        this.status(`could not create a session: ${err2.message}`, 'error');
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
    if (old) api.deleteSession(old.id, old.token);
    this.sessionState = null;
    this.lastHeader = null;
    this.charts.clearHistory();
    this.connectSession(created);
    if (how) this.toast(`${how}: now session ${created.id.slice(0, 8)} at epoch ${created.state?.epoch ?? 0}`);
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
        this.status(`connected · session ${created.id.slice(0, 8)}`);
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
        if (willRetry) this.status('connection lost; reconnecting…', 'warn');
        else if (code === 4404 && this.session?.id === created.id) this.sessionLost();
        else if (code !== 1000) this.status(`disconnected (${code}${reason ? `: ${reason}` : ''})`, 'error');
      },
    });
  }

  /** The server forgot our session (restarted, or deleted it): start a new one, same set-up. */
  sessionLost() {
    const now = Date.now();
    if (this.lastRestart && now - this.lastRestart < 10_000) {
      this.status('the session ended; reload the page to start a new one', 'error');
      return;
    }
    this.lastRestart = now;
    this.toast('the server ended this session; starting a new one with the same set-up');
    this.socket = null;
    this.session = null;
    this.startSession();
  }

  endSession() {
    if (!this.session) return;
    this.socket?.close();
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
      out.title = `output: ${k} class probabilities (softmax)`;
    } else {
      out.style.background = '';
      out.title = 'output';
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
    this.status(State.isLive(names) ? 'updated' : 'starting over with the new set-up…');
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
      this.toast('no session yet');
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
    const warn = result?.warnings?.length ? ` (${result.warnings.length} warning${result.warnings.length > 1 ? 's' : ''}: ${result.warnings.join('; ')})` : '';
    this.toast(`imported the TensorFlow Playground set-up${warn}`);
  }

  /** Move the page to the set-up `wanted` holds: change what differs, tell the server. */
  applyWanted(wanted) {
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
    const server = names.filter((n) => n !== 'show_test' && n !== 'discretize');
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
        this.status(`connected · session ${this.session?.id.slice(0, 8) ?? ''}`);
        break;
      }
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
        this.status(`error: ${msg.message}`, 'error');
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
      this.toast(`training stopped: ${st.stop_reason}`);
      this.status(`stopped: ${st.stop_reason}`, 'warn');
    }
    this.sessionState = st;
    this.controls.showState(st);
    // Why training paused by itself stays in view until it runs again.
    const banner = $('stop-reason');
    const reason = !st.running && st.stop_reason ? st.stop_reason : '';
    if (banner.dataset.reason !== reason) {
      banner.dataset.reason = reason;
      banner.textContent = reason ? `Stopped: ${reason}` : '';
      banner.hidden = !reason;
      banner.classList.toggle('diverged', /diverg/i.test(reason));
    }
  }

  status(text, level = 'info') {
    const el = $('status');
    el.textContent = text;
    el.dataset.level = level;
  }

  toast(text) {
    const box = $('toasts');
    const t = document.createElement('div');
    t.className = 'toast';
    t.setAttribute('role', 'alert');
    t.textContent = text;
    const close = document.createElement('button');
    close.className = 'toast-close';
    close.textContent = '×';
    close.setAttribute('aria-label', 'dismiss');
    close.addEventListener('click', () => t.remove());
    t.appendChild(close);
    box.appendChild(t);
    while (box.children.length > 4) box.firstChild.remove();
    setTimeout(() => t.remove(), 8000);
  }
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
});

app.boot().catch((err) => {
  console.error(err);
  app.status(`failed to start: ${err.message}`, 'error');
  app.toast(`failed to start: ${err.message}`);
});
