// Boot and wiring: read the URL, create a session, stream it, and route changes both ways.
// All page state belongs to one App object (exposed read-only to tests as window.nnpg).

import { api, ApiError } from './api.js';
import { Charts, classColor } from './charts.js';
import { Controls } from './controls.js';
import { LrFinder } from './lrfinder.js';
import { NetworkDiagram } from './network.js';
import { SessionSocket } from './socket.js';
import { State } from './state.js';

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
    this.network = new NetworkDiagram(this.catalog, this.state, hooks);
    this.lrFinder = new LrFinder({
      send: (msg) => {
        if (!this.socket) return false;
        this.socket.send(msg);
        return true;
      },
      apply: (rate) => this.applyLearningRate(rate),
      draw: (el, result) => this.charts.drawLrFinder(el, result),
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
    this.session = { id: created.id, token: created.token };
    this.adoptConfig(created.config);
    this.showSessionState(created.state);
    this.socket = new SessionSocket(created.id, created.token, {
      onOpen: () => this.status(`connected · session ${created.id.slice(0, 8)}`),
      onMessage: (msg) => this.message(msg),
      onFrame: (frame) => this.frame(frame),
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
        this.charts.setDataset(msg, this.state.get('problem'));
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
        if (f) this.charts.render(f);
      });
    }
  }

  showSessionState(st) {
    if (!st) return;
    const before = this.sessionState;
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
  sessionId: () => app.session?.id ?? null,
  lrRangeTest: () => copy(app.lrFinder?.result ?? null),
});

app.boot().catch((err) => {
  console.error(err);
  app.status(`failed to start: ${err.message}`, 'error');
  app.toast(`failed to start: ${err.message}`);
});
