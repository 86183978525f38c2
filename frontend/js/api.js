// REST calls (docs/protocol.md). Session calls carry the session's token as a Bearer header.

/** An HTTP error with the server's message, flattened for people. */
export class ApiError extends Error {
  constructor(status, detail) {
    super(ApiError.describe(status, detail));
    this.status = status;
    this.detail = detail;
  }

  /** FastAPI's `detail` (a string, or a list of {loc, msg}) as one line. */
  static describe(status, detail) {
    if (typeof detail === 'string') return detail;
    if (Array.isArray(detail)) {
      return detail
        .map((d) => {
          const loc = (d.loc || []).filter((x) => x !== 'body').join('.');
          return loc ? `${loc}: ${d.msg}` : d.msg;
        })
        .join('; ');
    }
    return `HTTP ${status}`;
  }
}

/** One JSON call: body as JSON (or raw bytes), token as a Bearer header; null for 204; ApiError with the server's message. */
export async function request(method, path, { body, token, keepalive, raw, contentType } = {}) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (raw !== undefined) headers['Content-Type'] = contentType || 'application/octet-stream';
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(path, {
    method,
    headers,
    body: raw !== undefined ? raw : body === undefined ? undefined : JSON.stringify(body),
    keepalive: Boolean(keepalive),
  });
  if (res.status === 204) return null;
  let payload = null;
  try {
    payload = await res.json();
  } catch {
    payload = null;
  }
  if (!res.ok) throw new ApiError(res.status, payload && payload.detail);
  return payload;
}

/** A file answer -> {blob, filename} (the Content-Disposition name, else `fallback`); ApiError on refusal. */
export async function fetchFile(path, token, fallback) {
  const res = await fetch(path, { headers: { Authorization: `Bearer ${token}` } });
  if (!res.ok) {
    let payload = null;
    try {
      payload = await res.json();
    } catch {
      payload = null;
    }
    throw new ApiError(res.status, payload && payload.detail);
  }
  const disposition = res.headers.get('Content-Disposition') || '';
  const match = /filename="?([^";]+)"?/i.exec(disposition);
  return { blob: await res.blob(), filename: match ? match[1] : fallback };
}

/** Save a blob under a file name: a temporary <a download>. */
export function saveBlob(blob, filename) {
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

export const api = {
  health: () => request('GET', '/api/health'),
  catalog: () => request('GET', '/api/catalog'),
  /** -> {id, token, config, state} */
  createSession: (config) => request('POST', '/api/sessions', { body: config }),
  getSession: (id, token) => request('GET', `/api/sessions/${id}`, { token }),
  patchSession: (id, token, partial) => request('PATCH', `/api/sessions/${id}`, { body: partial, token }),
  /** Per-part metrics: confusion, per-class scores, ROC / PR curves; regression errors. */
  metrics: (id, token) => request('GET', `/api/sessions/${id}/metrics`, { token }),
  /** Gradient norms over epochs, dead units, weight and activation histograms. */
  diagnostics: (id, token) => request('GET', `/api/sessions/${id}/diagnostics`, { token }),
  addPoint: (id, token, point) => request('POST', `/api/sessions/${id}/points`, { body: point, token }),
  removePoint: (id, token, x, y) =>
    request('DELETE', `/api/sessions/${id}/points?x=${encodeURIComponent(x)}&y=${encodeURIComponent(y)}`, { token }),
  /** Upload CSV text as the session's data (the session re-initialises on it). */
  uploadCsv: (id, token, text, { label, standardize }) =>
    request(
      'POST',
      `/api/sessions/${id}/data?label=${encodeURIComponent(label)}&standardize=${standardize ? 'true' : 'false'}`,
      { raw: text, contentType: 'text/csv', token },
    ),
  /** A session export as a file: -> {blob, filename}; ApiError with the server's message (501: a missing package). */
  exportFile: (id, token, format) =>
    fetchFile(`/api/sessions/${id}/export?format=${encodeURIComponent(format)}`, token, `nnplayground.${format}`),
  /** A new session from the bytes of a pt or json export -> {id, token, config, state}. */
  importSession: (bytes, contentType) => request('POST', '/api/sessions/import', { raw: bytes, contentType }),
  /** -> {session_id, runs: [{id, config, metrics, epochs, reason, created, has_weights}]}, newest first. */
  runs: (id, token) => request('GET', `/api/sessions/${id}/runs`, { token }),
  /** A new session from a past run (token: the session that made it) -> {id, token, config, state}. */
  reopenRun: (runId, token) => request('POST', `/api/runs/${encodeURIComponent(runId)}/reopen`, { token }),
  /** Best effort, survives page unload (fetch keepalive). */
  deleteSession: (id, token) =>
    request('DELETE', `/api/sessions/${id}`, { token, keepalive: true }).catch(() => null),
};
