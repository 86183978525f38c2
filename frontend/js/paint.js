// Small canvas painters shared by the network diagram (neuron and feature maps), the neuron
// popup and the Compare tab's boundaries. Cheap enough to run at the frame rate: quantised
// values go through a 256-entry colour table, one putImageData per map.

import { BLUE, ORANGE, PALETTE } from './colours.js';

function rgbOf(hex) {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

const O = rgbOf(ORANGE);
const B = rgbOf(BLUE);
const M = [232, 234, 235];
const PALETTE_RGB = PALETTE.map(rgbOf);

/** q = 0..255 (-1..1) -> orange .. light grey .. blue, as TF Playground's maps. */
export const DIVERGING_LUT = (() => {
  const lut = new Uint8ClampedArray(256 * 3);
  for (let q = 0; q < 256; q += 1) {
    const t = (q / 255) * 2 - 1;
    const end = t < 0 ? O : B;
    const a = Math.abs(t);
    for (let k = 0; k < 3; k += 1) lut[q * 3 + k] = M[k] + (end[k] - M[k]) * a;
  }
  return lut;
})();

/** The colour of a value v in [-1, 1] (clamped) as 'rgb(...)'. */
export function divergingColor(v) {
  const q = Math.round(((Math.max(-1, Math.min(1, v)) + 1) / 2) * 255);
  return `rgb(${DIVERGING_LUT[q * 3]},${DIVERGING_LUT[q * 3 + 1]},${DIVERGING_LUT[q * 3 + 2]})`;
}

/**
 * Paint an n×n map of 0..255 values (row r at the r-th y from the bottom, as the server's grids)
 * onto `canvas` (resized to n×n).
 */
export function paintQuantized(canvas, values, offset, n) {
  if (canvas.width !== n) {
    canvas.width = n;
    canvas.height = n;
  }
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(n, n);
  const d = img.data;
  for (let r = 0; r < n; r += 1) {
    const out = (n - 1 - r) * n;
    const base = offset + r * n;
    for (let c = 0; c < n; c += 1) {
      const q = values[base + c] * 3;
      const i = (out + c) * 4;
      d[i] = DIVERGING_LUT[q];
      d[i + 1] = DIVERGING_LUT[q + 1];
      d[i + 2] = DIVERGING_LUT[q + 2];
      d[i + 3] = 255;
    }
  }
  ctx.putImageData(img, 0, 0);
}

/** An input feature over the plane, as a function of (x1, x2); null for one we cannot draw. */
export function featureFunction(name) {
  const f = {
    x1: (x) => x,
    x2: (_, y) => y,
    'x1^2': (x) => x * x,
    'x2^2': (_, y) => y * y,
    x1x2: (x, y) => x * y,
    sin_x1: (x) => Math.sin(x),
    sin_x2: (_, y) => Math.sin(y),
    cos_x1: (x) => Math.cos(x),
    cos_x2: (_, y) => Math.cos(y),
  }[name];
  if (f) return f;
  // Products and powers the catalog may add later: x1^3, x1x2^2, ...
  const m = /^x1(?:\^(\d))?(?:x2(?:\^(\d))?)?$|^x2\^(\d)$/.exec(name);
  if (!m) return null;
  if (m[3]) return (_, y) => y ** Number(m[3]);
  const p1 = Number(m[1] || 1);
  const p2 = name.includes('x2') ? Number(m[2] || 1) : 0;
  return (x, y) => x ** p1 * y ** p2;
}

/** Quantised n×n map of a feature over [lo, hi]², scaled by its largest |value| (as neuron maps). */
export function featureMap(name, n = 20, extent = [-6, 6]) {
  const f = featureFunction(name);
  if (!f) return null;
  const [lo, hi] = extent;
  const vals = new Float64Array(n * n);
  let max = 1e-9;
  for (let r = 0; r < n; r += 1) {
    const y = lo + ((hi - lo) * r) / (n - 1);
    for (let c = 0; c < n; c += 1) {
      const x = lo + ((hi - lo) * c) / (n - 1);
      const v = f(x, y);
      vals[r * n + c] = v;
      max = Math.max(max, Math.abs(v));
    }
  }
  const q = new Uint8Array(n * n);
  for (let i = 0; i < q.length; i += 1) q[i] = Math.round(((vals[i] / max + 1) / 2) * 255);
  return { q, scale: max };
}

/**
 * A decision boundary snapshot on a canvas: `grid` = {values: Uint8Array, resolution, classes,
 * value_range, extent, problem}; `points` = {x: [[a, b]...], y: [...]} drawn on top.
 */
export function paintBoundary(canvas, grid, points, { size = 180 } = {}) {
  if (canvas.width !== size) {
    canvas.width = size;
    canvas.height = size;
  }
  const ctx = canvas.getContext('2d');
  ctx.clearRect(0, 0, size, size);
  if (!grid) return;
  const n = grid.resolution;
  const small = document.createElement('canvas');
  small.width = n;
  small.height = n;
  const sctx = small.getContext('2d');
  const img = sctx.createImageData(n, n);
  const d = img.data;
  const k = grid.classes || 0;
  const plane = n * n;
  for (let r = 0; r < n; r += 1) {
    const out = (n - 1 - r) * n;
    for (let c = 0; c < n; c += 1) {
      const cell = r * n + c;
      let rgb;
      if (k > 2) {
        // Blend the class colours by probability, greyer where no class is sure.
        let red = 0;
        let green = 0;
        let blue = 0;
        let total = 0;
        let best = 0;
        for (let j = 0; j < k; j += 1) {
          const p = grid.values[j * plane + cell];
          const col = PALETTE_RGB[j % PALETTE_RGB.length];
          red += p * col[0];
          green += p * col[1];
          blue += p * col[2];
          total += p;
          best = Math.max(best, p);
        }
        const sure = total ? Math.sqrt(Math.max(0, (best / total - 1 / k) / (1 - 1 / k))) : 0;
        rgb = total ? [red / total, green / total, blue / total].map((v, i) => M[i] + (v - M[i]) * sure) : M;
      } else {
        const q = grid.values[cell] * 3;
        rgb = [DIVERGING_LUT[q], DIVERGING_LUT[q + 1], DIVERGING_LUT[q + 2]];
      }
      const i = (out + c) * 4;
      d[i] = rgb[0];
      d[i + 1] = rgb[1];
      d[i + 2] = rgb[2];
      d[i + 3] = 255;
    }
  }
  sctx.putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.globalAlpha = 0.75;
  ctx.drawImage(small, 0, 0, size, size);
  ctx.globalAlpha = 1;
  if (points) drawPoints(ctx, points, grid, size);
}

/** Data points as small dots (class colours, or the diverging scale for regression). */
export function drawPoints(ctx, points, grid, size) {
  const ext = grid.extent || [-6, 6];
  const [lo, hi] = Array.isArray(ext[0]) ? ext[0] : ext;
  const [ylo, yhi] = Array.isArray(ext[0]) ? ext[1] : ext;
  const [vlo, vhi] = grid.value_range || [-1, 1];
  const regression = grid.problem === 'regression';
  ctx.lineWidth = 0.6;
  ctx.strokeStyle = '#fff';
  const xs = points.x || [];
  const ys = points.y || [];
  for (let i = 0; i < xs.length; i += 1) {
    const px = ((xs[i][0] - lo) / (hi - lo)) * size;
    const py = size - ((xs[i][1] - ylo) / (yhi - ylo)) * size;
    if (regression) {
      const t = ((ys[i] - vlo) / (vhi - vlo || 1)) * 2 - 1;
      ctx.fillStyle = divergingColor(t);
    } else {
      const col = PALETTE[((Math.round(ys[i]) % PALETTE.length) + PALETTE.length) % PALETTE.length];
      ctx.fillStyle = col;
    }
    ctx.beginPath();
    ctx.arc(px, py, Math.max(1.6, size / 110), 0, 2 * Math.PI);
    ctx.fill();
    ctx.stroke();
  }
}
