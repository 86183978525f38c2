// Polling a REST view (metrics, diagnostics) while it is on screen.

/**
 * Load `view.hooks.load()` when `shown` and the change key moved since the last load; one request
 * at a time. Returns the data, or null when nothing was loaded. A failure is reported once through
 * `onError` and retried every 10th call.
 */
export async function pollView(view, shown, onError) {
  if (!shown || view.inflight) return null;
  const key = view.hooks.changeKey();
  if (key === view.fetchedKey) return null;
  view.inflight = true;
  try {
    const data = await view.hooks.load();
    if (data) {
      view.fetchedKey = key;
      view.errors = 0;
    }
    return data || null;
  } catch (err) {
    view.errors += 1;
    view.fetchedKey = view.errors % 10 === 0 ? null : key;
    onError(err);
    return null;
  } finally {
    view.inflight = false;
  }
}
