// The output column's tabs (Boundary, Metrics, ROC / PR, Diagnostics, Compare). Views that poll
// the server ask `isShown(name)` so nothing is fetched for a tab nobody is looking at.

export class Tabs {
  /**
   * @param {HTMLElement} bar the role=tablist element holding [data-tab] buttons
   * @param {(name: string) => void} onShow called after a tab becomes visible
   */
  constructor(bar, onShow) {
    this.bar = bar;
    this.onShow = onShow;
    this.current = 'boundary';
    for (const btn of bar.querySelectorAll('[data-tab]')) {
      btn.addEventListener('click', () => this.show(btn.dataset.tab));
      btn.addEventListener('keydown', (ev) => {
        if (ev.key !== 'ArrowRight' && ev.key !== 'ArrowLeft') return;
        const all = [...bar.querySelectorAll('[data-tab]')];
        const i = all.indexOf(btn) + (ev.key === 'ArrowRight' ? 1 : -1);
        const next = all[(i + all.length) % all.length];
        next.focus();
        this.show(next.dataset.tab);
      });
    }
  }

  show(name) {
    if (!document.querySelector(`[data-tab-panel="${name}"]`)) return;
    this.current = name;
    for (const btn of this.bar.querySelectorAll('[data-tab]')) {
      const on = btn.dataset.tab === name;
      btn.setAttribute('aria-selected', String(on));
      btn.tabIndex = on ? 0 : -1;
    }
    for (const panel of document.querySelectorAll('[data-tab-panel]')) panel.hidden = panel.dataset.tabPanel !== name;
    this.onShow?.(name);
  }

  /** True while tab `name` is on screen (and the page itself is visible). */
  isShown(name) {
    return this.current === name && document.visibilityState !== 'hidden';
  }
}
