// App's session lifecycle: create the page's session (from defaults if the URL's set-up is
// refused), connect its stream, adopt another one, start again when it is lost, end it. Mixed into App.

import { api, ApiError } from './api.js';
import { t } from './i18n.js';
import { SessionSocket } from './socket.js';

export const sessionLifecycle = {
  /** The server changed our session behind our back (a fork): show its config and state again. */
  async refreshSession() {
    if (!this.session) return;
    const fresh = await api.getSession(this.session.id, this.session.token);
    this.charts.clearHistory();
    this.adoptConfig(fresh.config);
    this.showSessionState(fresh.state);
  },

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
  },

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
  },

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
  },

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
  },

  endSession() {
    if (!this.session) return;
    this.socket?.close();
    // A room's session outlives the page: the student comes back to it.
    if (this.room?.keepsSession()) return;
    api.deleteSession(this.session.id, this.session.token);
    this.session = null;
  },

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
  },
};
