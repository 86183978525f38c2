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

async function request(method, path, { body, token, keepalive } = {}) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
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

export const api = {
  health: () => request('GET', '/api/health'),
  catalog: () => request('GET', '/api/catalog'),
  /** -> {id, token, config, state} */
  createSession: (config) => request('POST', '/api/sessions', { body: config }),
  getSession: (id, token) => request('GET', `/api/sessions/${id}`, { token }),
  patchSession: (id, token, partial) => request('PATCH', `/api/sessions/${id}`, { body: partial, token }),
  /** Best effort, survives page unload (fetch keepalive). */
  deleteSession: (id, token) =>
    request('DELETE', `/api/sessions/${id}`, { token, keepalive: true }).catch(() => null),
};
