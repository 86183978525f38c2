// App's settings wiring: control changes to the server, the URL hash both ways, set-ups applied
// from outside (a hand-edited URL, a TF Playground link, a lesson step), and the language. Mixed into App.

import { LANGUAGES, language, setLanguage, t } from './i18n.js';
import { State } from './state.js';

const $ = (id) => document.getElementById(id);

export const settingsWiring = {
  writeHash() {
    const hash = `#${this.state.toHash()}`;
    if (location.hash !== hash) history.replaceState(null, '', hash);
  },

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
  },

  /** Apply a learning rate found by the range test (added to the menu if it lacks it). */
  applyLearningRate(rate) {
    this.state.set('lr', rate);
    this.controls.render();
    this.changed(['lr']);
  },

  uiChanged(name) {
    this.writeHash();
    if (name === 'show_test') this.charts.setShowTest(this.state.get('show_test'));
    if (name === 'discretize') this.charts.setDiscretize(this.state.get('discretize'));
  },

  command(type) {
    if (!this.socket) {
      this.toast(t('app.status.noSession'));
      return;
    }
    this.socket.send({ type });
  },

  /** Someone edited the URL by hand: apply what differs. */
  hashEdited() {
    const wanted = new State(this.state.defaults);
    wanted.readHash(location.hash, (p) => this.defaultDatasetFor(p));
    this.applyWanted(wanted);
  },

  /** A TensorFlow Playground link's set-up (State values over the defaults, tfimport.js). */
  importTf(values, result) {
    const wanted = new State(this.state.defaults);
    for (const [name, v] of Object.entries(values)) wanted.set(name, v);
    this.applyWanted(wanted);
    this.writeHash();
    const n = result?.warnings?.length || 0;
    const warn = n ? t(n > 1 ? 'app.toast.warnings' : 'app.toast.warning', { n, list: result.warnings.join('; ') }) : '';
    this.toast(t('app.toast.tfImported', { warn }));
  },

  /** Load a full SessionConfig (a lesson step's) as if the controls had set it. */
  applyConfig(config) {
    const wanted = new State(this.state.defaults);
    Object.assign(wanted.values, this.state.values); // page-only settings stay as they are
    wanted.setConfig(config);
    this.applyWanted(wanted);
  },

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
  },

  /** The header's language menu: the URL keeps the choice (`lang=`). */
  bindLanguageMenu() {
    const menu = $('language');
    if (!menu) return;
    menu.value = language();
    menu.addEventListener('change', () => this.switchLanguage(menu.value));
  },

  /** Show the page in another language; the session and its training go on untouched. */
  async switchLanguage(code) {
    if (!LANGUAGES.includes(code) || code === language()) return;
    await setLanguage(code);
    if (this.state) {
      this.state.set('lang', code);
      this.writeHash();
    }
  },
};

/** The `lang=` of a URL hash, if it names one of ours. */
export function hashLanguage(hash) {
  const match = /(?:^#?|&)lang=([a-z]{2})/i.exec(hash || '');
  const code = match ? match[1].toLowerCase() : '';
  return LANGUAGES.includes(code) ? code : '';
}
