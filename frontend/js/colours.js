// The page's colours: TF Playground's orange and blue, the diverging scale between them, and
// the class palette (as hex strings and, for painting pixels, as RGB triples).

export const ORANGE = '#f59322'; // class 0 / negative
export const BLUE = '#0877bd'; // class 1 / positive
const MIDDLE = '#e8eaeb';
/** TF Playground's diverging scale: orange (low) through light grey to blue (high). */
export const DIVERGING = [
  [0, ORANGE],
  [0.5, MIDDLE],
  [1, BLUE],
];

/** Class colours: orange and blue as TF Playground for two classes, then four more, distinct. */
export const PALETTE = [ORANGE, BLUE, '#2ca25f', '#8856a7', '#e7298a', '#8c6d31'];

/** The colour of class `k`. */
export function classColor(k) {
  return PALETTE[((Math.round(k) % PALETTE.length) + PALETTE.length) % PALETTE.length];
}

function rgbOf(hex) {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}
export const PALETTE_RGB = PALETTE.map(rgbOf);
export const MIDDLE_RGB = rgbOf(MIDDLE);
