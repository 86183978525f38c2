// App's stream handling: the session's websocket messages, its frames (drawn once per animation
// frame), the session state they carry, and the server's stop reasons in the page's language.
// Mixed into App.

import { language, t } from './i18n.js';

const $ = (id) => document.getElementById(id);

export const streamHandling = {
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
  },

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
  },

  isRangeTestError(msg) {
    const loc = Array.isArray(msg.loc) ? msg.loc : [];
    const text = String(msg.message || '');
    return loc[0] === 'type' || loc.includes('lr_range_test') || /lr_range_test|range test|range_test/i.test(text);
  },

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
  },

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
  },
};

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
