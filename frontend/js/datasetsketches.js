// Thumbnails of the data sets for their buttons: a small sketch of each, drawn on a canvas.

import { BLUE, ORANGE, classColor } from './colours.js';

// Small sketches of each data set for the buttons, as TF Playground's thumbnails.
// Each maps a point of [-6, 6]² to a value in [-1, 1] (orange..blue), or, for data sets with
// k classes, to {c: class index} (or null for the gaps between them).
const SKETCHES = {
  circle: (x, y) => (Math.hypot(x, y) < 3 ? 1 : Math.hypot(x, y) > 3.8 ? -1 : 0),
  xor: (x, y) => (Math.abs(x) < 0.4 || Math.abs(y) < 0.4 ? 0 : x * y > 0 ? 1 : -1),
  gauss: (x, y) => {
    const a = Math.hypot(x - 2.5, y - 2.5);
    const b = Math.hypot(x + 2.5, y + 2.5);
    return a < 2.3 ? 1 : b < 2.3 ? -1 : 0;
  },
  spiral: (x, y, k = 2) => {
    const r = Math.hypot(x, y);
    if (r < 0.3 || r > 5.8) return null;
    const turn = 2 * Math.PI;
    const t = (((Math.atan2(y, x) - r * 1.1) % turn) + turn) % turn;
    const arm = t / (turn / k);
    const frac = arm - Math.floor(arm);
    return frac < 0.2 || frac > 0.8 ? null : { c: Math.floor(arm) % k };
  },
  blobs: (x, y, k = 2) => {
    // k round clouds evenly spaced on a circle of radius 3.5.
    for (let c = 0; c < k; c += 1) {
      const a = (2 * Math.PI * c) / k + Math.PI / 4;
      if (Math.hypot(x - 3.5 * Math.cos(a), y - 3.5 * Math.sin(a)) < (k > 4 ? 1.5 : 1.9)) return { c };
    }
    return null;
  },
  moons: (x, y) => {
    // Two interleaving half circles (scikit-learn's make_moons, scaled to the plane).
    const up = Math.hypot(x + 1.5, y + 0.75);
    const down = Math.hypot(x - 1.5, y - 0.75);
    if (y >= -0.75 && Math.abs(up - 3) < 0.8) return -1;
    if (y <= 0.75 && Math.abs(down - 3) < 0.8) return 1;
    return null;
  },
  checkerboard: (x, y) => ((Math.floor(x / 3) + Math.floor(y / 3)) % 2 === 0 ? 1 : -1),
  rings: (x, y, k = 3) => {
    const r = Math.hypot(x, y);
    const band = 5.8 / k;
    const c = Math.floor(r / band);
    if (c >= k || r - c * band > band * 0.7) return null;
    return { c };
  },
  iris: (x, y) => {
    // Three clouds along a diagonal: setosa apart, versicolor and virginica close.
    const cs = [
      [-3.6, -3, 1.4],
      [0.8, 0.6, 1.6],
      [3.2, 3, 1.6],
    ];
    for (let c = 0; c < 3; c += 1) if (Math.hypot(x - cs[c][0], (y - cs[c][1]) * 1.4) < cs[c][2]) return { c };
    return null;
  },
  pass_fail: (x, y) => {
    // Hours attended (x) and studied (y): pass above a falling line.
    const margin = x + y - 0.5;
    return Math.abs(margin) < 0.6 ? 0 : margin > 0 ? 1 : -1;
  },
  custom: (x, y) => {
    // A few hand-placed dots of both classes, as drawn by someone.
    const dots = [[-3, 2.5, 0], [-1.5, 3.5, 0], [-3.5, -0.5, 0], [2.5, -2, 1], [3.5, 1, 1], [1, -3.8, 1], [0.5, 1, 0], [-1, -2.5, 1]];
    for (const [dx, dy, c] of dots) if (Math.hypot(x - dx, y - dy) < 0.9) return { c };
    return null;
  },
  plane: (x, y) => Math.max(-1, Math.min(1, (x + y) / 9)),
  sine: (x) => Math.sin((x * Math.PI) / 4),
  ripple: (x, y) => Math.cos(Math.hypot(x, y) * 1.3) * Math.exp(-Math.hypot(x, y) / 12),
  'multi-gauss': (x, y) => {
    const bump = (cx, cy, s) => s * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 4);
    return Math.max(-1, Math.min(1, bump(-3, 3, 1) + bump(3, -3, 1) + bump(3, 3, -1) + bump(-3, -3, -1)));
  },
};

function hexToRgb(hex) {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** Draw data set `name`'s sketch (with `classes` classes where it has a choice) on `canvas`. */
export function drawSketch(canvas, name, classes = 2) {
  const sketch = SKETCHES[name];
  const ctx = canvas.getContext('2d');
  const { width: w, height: h } = canvas;
  const img = ctx.createImageData(w, h);
  const [o, m, b] = [hexToRgb(ORANGE), [232, 234, 235], hexToRgb(BLUE)];
  for (let py = 0; py < h; py += 1) {
    for (let px = 0; px < w; px += 1) {
      const x = (px / (w - 1)) * 12 - 6;
      const y = 6 - (py / (h - 1)) * 12;
      const v = sketch ? sketch(x, y, classes) : 0;
      let rgb;
      if (v === null) rgb = m;
      else if (typeof v === 'object') rgb = hexToRgb(classColor(v.c, classes));
      else {
        const t = Math.abs(v);
        const end = v >= 0 ? b : o;
        rgb = m.map((mk, k) => mk + (end[k] - mk) * t);
      }
      const i = (py * w + px) * 4;
      for (let k = 0; k < 3; k += 1) img.data[i + k] = Math.round(rgb[k]);
      img.data[i + 3] = 255;
    }
  }
  ctx.putImageData(img, 0, 0);
}
