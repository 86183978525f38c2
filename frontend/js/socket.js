// Websocket client for /ws/sessions/{id}: JSON messages plus binary frames (docs/protocol.md).
// Frame layout: u32 little-endian header length, UTF-8 JSON header, then the sections the
// header lists, each raw little-endian data, zlib-compressed ('deflate' format) when flagged.

const DTYPES = { uint8: Uint8Array, float32: Float32Array };
const utf8 = new TextDecoder();

async function inflate(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * Decode one binary frame: {header, arrays: {name: TypedArray}} (arrays are flat, row-major;
 * `header.sections[i].shape` gives their shape).
 * @param {ArrayBuffer} buffer
 */
export async function decodeFrame(buffer) {
  const view = new DataView(buffer);
  const headerLength = view.getUint32(0, true);
  const header = JSON.parse(utf8.decode(new Uint8Array(buffer, 4, headerLength)));
  let offset = 4 + headerLength;
  const arrays = {};
  for (const sec of header.sections || []) {
    let bytes = new Uint8Array(buffer, offset, sec.length);
    offset += sec.length;
    if (sec.zlib) bytes = await inflate(bytes);
    const Type = DTYPES[sec.dtype];
    if (!Type) throw new Error(`unknown dtype ${sec.dtype} in section ${sec.name}`);
    // Copy into an aligned buffer: a Float32Array needs an offset that is a multiple of 4.
    const aligned = bytes.byteOffset % Type.BYTES_PER_ELEMENT === 0 ? bytes : bytes.slice();
    arrays[sec.name] = new Type(aligned.buffer, aligned.byteOffset, aligned.byteLength / Type.BYTES_PER_ELEMENT);
  }
  return { header, arrays };
}

/**
 * One session's stream. Handlers: onMessage(json), onFrame({header, arrays}), onOpen(),
 * onClose({code, reason, willRetry}). Frames are latest-wins: while one decodes, only the newest
 * arrival waits; older ones are dropped, and a result older than one already shown is dropped.
 */
export class SessionSocket {
  constructor(id, token, handlers) {
    this.id = id;
    this.token = token;
    this.handlers = handlers;
    this.ws = null;
    this.closedByUs = false;
    this.retries = 0;
    this.decoding = false;
    this.waiting = null; // newest undecoded frame while one decodes
    this.received = 0; // binary frames that arrived
    this.decoded = 0; // frames decoded and handed on
    this.dropped = 0;
    this.lastSeq = -1;
    this.outbox = []; // commands sent before the socket opened
    this.connect();
  }

  url() {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    return `${scheme}://${location.host}/ws/sessions/${encodeURIComponent(this.id)}?token=${encodeURIComponent(this.token)}`;
  }

  connect() {
    const ws = new WebSocket(this.url());
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.addEventListener('open', () => {
      this.retries = 0;
      this.lastSeq = -1;
      for (const msg of this.outbox.splice(0)) ws.send(msg);
      this.handlers.onOpen?.();
    });
    ws.addEventListener('message', (ev) => {
      if (typeof ev.data === 'string') {
        let msg;
        try {
          msg = JSON.parse(ev.data);
        } catch {
          this.handlers.onMessage?.({ type: 'error', message: 'unreadable message from server' });
          return;
        }
        this.handlers.onMessage?.(msg);
      } else {
        this.received += 1;
        this.enqueue(ev.data);
      }
    });
    ws.addEventListener('close', (ev) => {
      if (this.ws !== ws) return;
      // 44xx: the server refused this session for good (token, unknown or deleted session).
      const fatal = this.closedByUs || (ev.code >= 4400 && ev.code < 4500) || ev.code === 1009;
      const willRetry = !fatal && this.retries < 8;
      this.handlers.onClose?.({ code: ev.code, reason: ev.reason, willRetry });
      if (willRetry) {
        const delay = Math.min(500 * 2 ** this.retries, 8000);
        this.retries += 1;
        this.retryTimer = setTimeout(() => this.connect(), delay);
      }
    });
  }

  enqueue(buffer) {
    if (this.decoding) {
      if (this.waiting) this.dropped += 1;
      this.waiting = buffer;
      return;
    }
    this.decodeLoop(buffer);
  }

  async decodeLoop(buffer) {
    this.decoding = true;
    let next = buffer;
    while (next) {
      try {
        const frame = await decodeFrame(next);
        const seq = frame.header.seq;
        if (typeof seq === 'number' && seq < this.lastSeq) {
          this.dropped += 1;
        } else {
          if (typeof seq === 'number') this.lastSeq = seq;
          this.decoded += 1;
          this.handlers.onFrame?.(frame);
        }
      } catch (err) {
        this.handlers.onMessage?.({ type: 'error', message: `bad frame: ${err.message}` });
      }
      next = this.waiting;
      this.waiting = null;
    }
    this.decoding = false;
  }

  get isOpen() {
    return this.ws && this.ws.readyState === WebSocket.OPEN;
  }

  /** Send a command ({type: 'play'} ...); queued until the socket opens. */
  send(command) {
    const text = JSON.stringify(command);
    if (this.isOpen) this.ws.send(text);
    else this.outbox.push(text);
  }

  close() {
    this.closedByUs = true;
    clearTimeout(this.retryTimer);
    if (this.ws) this.ws.close(1000, 'bye');
  }
}
