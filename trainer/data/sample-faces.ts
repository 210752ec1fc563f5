import { createWriteStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import seedrandom from 'seedrandom';
import sharp from 'sharp';
import {
  ALWAYS_LABELLED,
  IMAGE_SIZE,
  KEYPOINTS,
  KEYPOINT_COLUMNS,
  type Keypoint,
  LOOKUP_HEADER,
  PIXELS,
  TEST_HEADER,
  TRAINING_HEADER,
} from '../../contracts/keypoints';
import { DATA_FILES } from '../../contracts/run-layout';

/**
 * Generated faces in the Kaggle format, so the project runs and tests without the real data (which may
 * not be redistributed). Each face is an SVG (head, eyes with iris and corners, eyebrows, nose, mouth)
 * rendered by sharp to 96x96 greyscale, and its labels are the very points the drawing is built from.
 *
 * Coordinate convention: pixel centres sit on integers, as in MIRROR_X_OFFSET: label (x, y) is the centre
 * of pixel column x, row y, and SVG user space is shifted by half a pixel to match (SVG puts pixel c on
 * [c, c + 1]). A horizontal mirror of the image therefore maps x to exactly 95 - x.
 *
 * Label distribution: the mean face of the real training.csv (docs/seed.md, "The data"), moved by a random shift, scale
 * and tilt, then jittered per feature group (one eye, one brow, nose, mouth) and per keypoint; the jitter
 * is sized so each coordinate's standard deviation comes out near the real one.
 */

type Point = [number, number];

/** Mean and standard deviation of each keypoint in the real training.csv (x then y, pixels). */
const REAL_STATS: Record<Keypoint, [number, number, number, number]> = {
  left_eye_center: [66.4, 3.5, 37.7, 3.2],
  right_eye_center: [30.3, 3.1, 38.0, 3.0],
  left_eye_inner_corner: [59.2, 2.7, 37.9, 2.3],
  left_eye_outer_corner: [73.3, 3.4, 37.7, 2.9],
  right_eye_inner_corner: [36.7, 2.4, 38.0, 2.3],
  right_eye_outer_corner: [22.4, 3.1, 38.0, 2.9],
  left_eyebrow_inner_end: [56.1, 3.5, 29.3, 3.1],
  left_eyebrow_outer_end: [79.5, 4.0, 29.7, 3.8],
  right_eyebrow_inner_end: [39.3, 3.2, 29.5, 3.1],
  right_eyebrow_outer_end: [15.9, 3.6, 30.4, 3.9],
  nose_tip: [48.4, 4.3, 62.7, 5.7],
  mouth_left_corner: [63.3, 4.1, 76.0, 4.6],
  mouth_right_corner: [32.9, 4.0, 76.2, 4.4],
  mouth_center_top_lip: [48.0, 3.3, 72.9, 5.2],
  mouth_center_bottom_lip: [48.6, 4.3, 79.0, 5.4],
};

/** Keypoints that move together (one eye, one brow, the nose, the mouth), as parts of a real face do. */
const GROUPS: readonly (readonly Keypoint[])[] = [
  ['left_eye_center', 'left_eye_inner_corner', 'left_eye_outer_corner'],
  ['right_eye_center', 'right_eye_inner_corner', 'right_eye_outer_corner'],
  ['left_eyebrow_inner_end', 'left_eyebrow_outer_end'],
  ['right_eyebrow_inner_end', 'right_eyebrow_outer_end'],
  ['nose_tip'],
  ['mouth_left_corner', 'mouth_right_corner', 'mouth_center_top_lip', 'mouth_center_bottom_lip'],
];

/** Whole-face variation: shift (px), relative scale and tilt (radians), one standard deviation each. */
const SHIFT_SD = 2.0;
const SCALE_SD = 0.05;
const TILT_SD = 0.06;
/** Face centre of the mean template, the pivot of scale and tilt. */
const PIVOT: Point = [48, 55];

interface JitterPlan {
  /** Per group: standard deviation of the shared offset, x and y. */
  group: Array<[number, number]>;
  /** Per keypoint (KEYPOINTS order): standard deviation of its own offset, x and y. */
  own: Array<[number, number]>;
}

/**
 * Splits what the shift, scale and tilt leave of each coordinate's real variance between a shared group
 * offset (most of it, so a mouth stays a mouth) and a small per-keypoint offset.
 */
function planJitter(): JitterPlan {
  const residual = (k: Keypoint): [number, number] => {
    const [mx, sx, my, sy] = REAL_STATS[k];
    const dx = mx - PIVOT[0];
    const dy = my - PIVOT[1];
    const vx = SHIFT_SD ** 2 + (SCALE_SD * dx) ** 2 + (TILT_SD * dy) ** 2;
    const vy = SHIFT_SD ** 2 + (SCALE_SD * dy) ** 2 + (TILT_SD * dx) ** 2;
    return [Math.max(0, sx ** 2 - vx), Math.max(0, sy ** 2 - vy)];
  };
  const group: Array<[number, number]> = [];
  const own: Array<[number, number]> = KEYPOINTS.map(() => [0, 0]);
  for (const members of GROUPS) {
    const res = members.map((k) => ({ k, r: residual(k) }));
    const gx = 0.8 * Math.min(...res.map(({ r }) => r[0]));
    const gy = 0.8 * Math.min(...res.map(({ r }) => r[1]));
    group.push([Math.sqrt(gx), Math.sqrt(gy)]);
    for (const { k, r } of res) own[KEYPOINTS.indexOf(k)] = [Math.sqrt(r[0] - gx), Math.sqrt(r[1] - gy)];
  }
  return { group, own };
}

const JITTER = planJitter();

function gaussian(rng: () => number): number {
  // Box-Muller; 1 - u keeps log() away from 0.
  const u = 1 - rng();
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

const uniform = (rng: () => number, lo: number, hi: number): number => lo + (hi - lo) * rng();

/** Samples the 15 keypoints of one face (pixels, KEYPOINTS order). */
function sampleKeypoints(rng: () => number): Point[] {
  const cx = PIVOT[0] + SHIFT_SD * gaussian(rng);
  const cy = PIVOT[1] + SHIFT_SD * gaussian(rng);
  const scale = 1 + SCALE_SD * gaussian(rng);
  const tilt = TILT_SD * gaussian(rng);
  const cos = Math.cos(tilt);
  const sin = Math.sin(tilt);
  const groupOffset = JITTER.group.map(([sx, sy]): Point => [sx * gaussian(rng), sy * gaussian(rng)]);
  const points = KEYPOINTS.map((k, i): Point => {
    const [mx, , my] = REAL_STATS[k];
    const dx = (mx - PIVOT[0]) * scale;
    const dy = (my - PIVOT[1]) * scale;
    const g = groupOffset[GROUPS.findIndex((members) => members.includes(k))];
    const own = JITTER.own[i];
    if (!g || !own) throw new Error(`expected ${k} in one of the jitter groups, found it in none`);
    return [
      cx + dx * cos - dy * sin + g[0] + own[0] * gaussian(rng),
      cy + dx * sin + dy * cos + g[1] + own[1] * gaussian(rng),
    ];
  });
  const at = (k: Keypoint) => pointOf(points, k);
  // Keep the drawing a face: the bottom lip below the top lip, each iris between its corners.
  const top = at('mouth_center_top_lip');
  const bottom = at('mouth_center_bottom_lip');
  if (bottom[1] < top[1] + 2) bottom[1] = top[1] + 2;
  for (const side of ['left', 'right'] as const) {
    const c = at(`${side}_eye_center`);
    const a = at(`${side}_eye_inner_corner`);
    const b = at(`${side}_eye_outer_corner`);
    const lo = Math.min(a[0], b[0]) + 1.5;
    const hi = Math.max(a[0], b[0]) - 1.5;
    c[0] = Math.min(hi, Math.max(lo, c[0]));
  }
  return points;
}

/** The point of keypoint `k` in `points`, which hold one per keypoint in KEYPOINTS order. */
function pointOf(points: Point[], k: Keypoint): Point {
  const point = points[KEYPOINTS.indexOf(k)];
  if (!point) throw new Error(`expected a point for ${k} among ${points.length}, found none`);
  return point;
}

const f = (v: number): string => v.toFixed(3);
const grey = (v: number): string => {
  const g = Math.round(Math.min(255, Math.max(0, v)));
  return `rgb(${g},${g},${g})`;
};

/** The SVG of a face whose keypoints are `p` (pixels, pixel centres on integers); `id` prefixes its element ids. */
function faceSvg(p: Point[], rng: () => number, id: string): string {
  const at = (k: Keypoint) => pointOf(p, k);
  const eyeL = at('left_eye_center');
  const eyeR = at('right_eye_center');
  const mouth = at('mouth_center_bottom_lip');
  const eyeSpan = Math.hypot(eyeL[0] - eyeR[0], eyeL[1] - eyeR[1]);
  const tiltDeg = (Math.atan2(eyeL[1] - eyeR[1], eyeL[0] - eyeR[0]) * 180) / Math.PI;
  const headCx = (eyeL[0] + eyeR[0]) / 2;
  const headCy = ((eyeL[1] + eyeR[1]) / 2 + mouth[1]) / 2 - 2;
  const skin = uniform(rng, 110, 200);
  const background = uniform(rng, 20, 235);
  const dark = uniform(rng, 15, 70);
  const parts: string[] = [];
  parts.push(
    `<ellipse cx="${f(headCx)}" cy="${f(headCy)}" rx="${f(eyeSpan * uniform(rng, 1.05, 1.25))}" ry="${f(eyeSpan * uniform(rng, 1.35, 1.6))}" ` +
      `transform="rotate(${f(tiltDeg)} ${f(headCx)} ${f(headCy)})" fill="${grey(skin)}"/>`,
  );
  // Eyes: an almond from outer to inner corner (the corners are its ends), iris and pupil at the centre.
  for (const side of ['left', 'right'] as const) {
    const c = at(`${side}_eye_center`);
    const inner = at(`${side}_eye_inner_corner`);
    const outer = at(`${side}_eye_outer_corner`);
    const width = Math.hypot(inner[0] - outer[0], inner[1] - outer[1]);
    const open = width * uniform(rng, 0.45, 0.6);
    const mx = (inner[0] + outer[0]) / 2;
    const my = (inner[1] + outer[1]) / 2;
    const almond = `M${f(outer[0])} ${f(outer[1])} Q${f(mx)} ${f(my - open)} ${f(inner[0])} ${f(inner[1])} Q${f(mx)} ${f(my + open)} ${f(outer[0])} ${f(outer[1])}Z`;
    parts.push(`<clipPath id="${id}${side}"><path d="${almond}"/></clipPath>`);
    parts.push(`<path d="${almond}" fill="${grey(skin + uniform(rng, 30, 60))}"/>`);
    parts.push(
      `<g clip-path="url(#${id}${side})"><circle cx="${f(c[0])}" cy="${f(c[1])}" r="${f(width * 0.28)}" fill="${grey(dark + 35)}"/>` +
        `<circle cx="${f(c[0])}" cy="${f(c[1])}" r="${f(width * 0.13)}" fill="${grey(dark * 0.4)}"/></g>`,
    );
  }
  // Eyebrows: an arched stroke from inner to outer end.
  for (const side of ['left', 'right'] as const) {
    const a = at(`${side}_eyebrow_inner_end`);
    const b = at(`${side}_eyebrow_outer_end`);
    const ctrl: Point = [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2 - uniform(rng, 1, 3)];
    parts.push(
      `<path d="M${f(a[0])} ${f(a[1])} Q${f(ctrl[0])} ${f(ctrl[1])} ${f(b[0])} ${f(b[1])}" fill="none" ` +
        `stroke="${grey(dark + 10)}" stroke-width="${f(eyeSpan * uniform(rng, 0.05, 0.09))}"/>`,
    );
  }
  // Nose: a shaded ridge down to the tip, nostrils either side just above it, a highlight on the tip.
  const tip = at('nose_tip');
  const bridgeX = (at('left_eye_inner_corner')[0] + at('right_eye_inner_corner')[0]) / 2;
  const bridgeY = (eyeL[1] + eyeR[1]) / 2 + 3;
  const wing = eyeSpan * 0.16;
  parts.push(
    `<path d="M${f(bridgeX)} ${f(bridgeY)} L${f(tip[0])} ${f(tip[1])}" stroke="${grey(skin - 35)}" stroke-width="1.3" fill="none"/>`,
    `<ellipse cx="${f(tip[0] - wing)}" cy="${f(tip[1] - 0.5)}" rx="1.6" ry="1" fill="${grey(skin - 70)}"/>`,
    `<ellipse cx="${f(tip[0] + wing)}" cy="${f(tip[1] - 0.5)}" rx="1.6" ry="1" fill="${grey(skin - 70)}"/>`,
    `<circle cx="${f(tip[0])}" cy="${f(tip[1])}" r="1.4" fill="${grey(skin + 35)}"/>`,
  );
  // Mouth: two quadratic curves between the corners through the lip centres (at t = 1/2 a quadratic
  // passes through 2C/4 + (A + B)/4, so the control point is 2P - (A + B) / 2).
  const ml = at('mouth_left_corner');
  const mr = at('mouth_right_corner');
  const control = (q: Point): Point => [2 * q[0] - (ml[0] + mr[0]) / 2, 2 * q[1] - (ml[1] + mr[1]) / 2];
  const topCtrl = control(at('mouth_center_top_lip'));
  const bottomCtrl = control(at('mouth_center_bottom_lip'));
  const lips = `M${f(ml[0])} ${f(ml[1])} Q${f(topCtrl[0])} ${f(topCtrl[1])} ${f(mr[0])} ${f(mr[1])} Q${f(bottomCtrl[0])} ${f(bottomCtrl[1])} ${f(ml[0])} ${f(ml[1])}Z`;
  parts.push(
    `<path d="${lips}" fill="${grey(skin - uniform(rng, 40, 80))}"/>`,
    `<path d="M${f(ml[0])} ${f(ml[1])} L${f(mr[0])} ${f(mr[1])}" stroke="${grey(dark)}" stroke-width="0.8"/>`,
  );
  // Lighting: a linear gradient from shade to light in a random direction over the whole picture.
  const angle = uniform(rng, 0, 2 * Math.PI);
  const gx = 0.5 + 0.5 * Math.cos(angle);
  const gy = 0.5 + 0.5 * Math.sin(angle);
  const strength = uniform(rng, 0, 0.45);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${IMAGE_SIZE}" height="${IMAGE_SIZE}">` +
    `<defs><linearGradient id="${id}light" x1="${f(1 - gx)}" y1="${f(1 - gy)}" x2="${f(gx)}" y2="${f(gy)}">` +
    `<stop offset="0" stop-color="black" stop-opacity="${f(strength)}"/><stop offset="1" stop-color="white" stop-opacity="${f(strength)}"/>` +
    `</linearGradient></defs>` +
    `<rect width="${IMAGE_SIZE}" height="${IMAGE_SIZE}" fill="${grey(background)}"/>` +
    `<g transform="translate(0.5 0.5)">${parts.join('')}</g>` +
    `<rect width="${IMAGE_SIZE}" height="${IMAGE_SIZE}" fill="url(#${id}light)"/></svg>`
  );
}

/** Renders an SVG to 96x96 greyscale bytes. */
async function render(svg: string): Promise<Uint8Array> {
  const { data, info } = await sharp(Buffer.from(svg))
    .greyscale()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 1 || data.length !== PIXELS) {
    throw new Error(
      `expected a 96x96 single-channel rendering, found ${info.width}x${info.height}x${info.channels}`,
    );
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

/**
 * 2^16 standard normal draws made once; each face reads them from its own seeded start with its own odd
 * stride. Measured: a Box-Muller draw per pixel took a fifth of the generation time.
 */
const NORMALS = (() => {
  const rng = seedrandom.alea('sensor-noise');
  return Float32Array.from({ length: 1 << 16 }, () => gaussian(rng));
})();

/** Contrast around the mean and Gaussian sensor noise, drawn from their own seeded generator. */
function finish(pixels: Uint8Array, contrast: number, noiseSd: number, noiseSeed: number): Uint8Array {
  const rng = seedrandom.alea(String(noiseSeed));
  const start = Math.floor(rng() * NORMALS.length);
  // An odd stride visits 9216 distinct entries of the power-of-two table.
  const stride = 2 * Math.floor(rng() * (NORMALS.length / 2)) + 1;
  const mask = NORMALS.length - 1;
  let mean = 0;
  for (let k = 0; k < PIXELS; k++) mean += pixels[k]!;
  mean /= PIXELS;
  const out = new Uint8Array(PIXELS);
  for (let k = 0; k < PIXELS; k++) {
    const v = mean + (pixels[k]! - mean) * contrast + noiseSd * NORMALS[(start + k * stride) & mask]!;
    out[k] = v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
  }
  return out;
}

/**
 * One generated face and its 30 labels (pixels, KEYPOINT_COLUMNS order, all present). Every draw from
 * `rng` happens before the first await, so faces started one after another without waiting are still
 * reproducible for a seed.
 */
export async function generateFace(
  rng: () => number,
): Promise<{ pixels: Uint8Array; labelsPx: Float32Array }> {
  const points = sampleKeypoints(rng);
  const svg = faceSvg(points, rng, 'face');
  const contrast = uniform(rng, 0.6, 1.25);
  const noiseSd = uniform(rng, 0, 8);
  const noiseSeed = Math.floor(rng() * 2 ** 32);
  const labelsPx = Float32Array.from(points.flat());
  const pixels = finish(await render(svg), contrast, noiseSd, noiseSeed);
  return { pixels, labelsPx };
}

/** Shares of the real training.csv: 4755 of 7049 rows carry only the 4 keypoints, ~154 carry 12-14. */
const FOUR_ONLY_SHARE = 4755 / 7049;
const PARTIAL_SHARE = 154 / 7049;

/** Which of the 15 keypoints a generated row keeps, following the real missing-keypoint pattern. */
function samplePresence(rng: () => number): boolean[] {
  const u = rng();
  if (u < FOUR_ONLY_SHARE) return KEYPOINTS.map((k) => ALWAYS_LABELLED.includes(k));
  const present = KEYPOINTS.map(() => true);
  if (u < FOUR_ONLY_SHARE + PARTIAL_SHARE) {
    const optional = KEYPOINTS.flatMap((k, i) => (ALWAYS_LABELLED.includes(k) ? [] : [i]));
    const drop = 1 + Math.floor(rng() * 3);
    for (let d = 0; d < drop; d++) {
      const j = d + Math.floor(rng() * (optional.length - d));
      [optional[d], optional[j]] = [optional[j]!, optional[d]!];
      present[optional[d]!] = false;
    }
  }
  return present;
}

/** Renders `total` faces, `concurrency` at a time, handing them over in order. */
async function renderInOrder(
  total: number,
  rng: () => number,
  onFace: (face: { pixels: Uint8Array; labelsPx: Float32Array }, index: number) => Promise<void>,
): Promise<void> {
  const concurrency = 16;
  const pending: Array<Promise<{ pixels: Uint8Array; labelsPx: Float32Array }>> = [];
  let next = 0;
  for (let i = 0; i < total; i++) {
    while (next < total && pending.length < concurrency) {
      pending.push(generateFace(rng));
      next++;
    }
    await onFace(await pending.shift()!, i);
  }
}

/** A file written line by line, waiting when the stream's buffer is full. */
async function withLines(
  file: string,
  write: (line: (text: string | Buffer) => Promise<void>) => Promise<void>,
): Promise<void> {
  const out = createWriteStream(file);
  const done = new Promise<void>((resolve, reject) => {
    out.on('error', reject);
    out.on('finish', resolve);
  });
  /** A string gets its newline here; a Buffer (see csvRow) carries its own. */
  const line = async (text: string | Buffer): Promise<void> => {
    if (!out.write(typeof text === 'string' ? `${text}\n` : text))
      await new Promise<void>((resolve) => out.once('drain', resolve));
  };
  try {
    await write(line);
  } finally {
    out.end();
  }
  await done;
}

const label = (v: number): string => String(Math.round(v * 1e4) / 1e4);
const DIGITS: readonly Buffer[] = Array.from({ length: 256 }, (_, v) => Buffer.from(String(v)));

/**
 * `prefix` then the space-separated pixel values and a newline, built as bytes: measured, joining the
 * values into a string and encoding it took a third of the generation time.
 */
function csvRow(prefix: string, pixels: Uint8Array): Buffer {
  const head = Buffer.from(prefix, 'latin1');
  const out = Buffer.allocUnsafe(head.length + PIXELS * 4 + 1);
  head.copy(out);
  let o = head.length;
  for (let k = 0; k < PIXELS; k++) {
    if (k > 0) out[o++] = 0x20;
    const d = DIGITS[pixels[k]!]!;
    for (let j = 0; j < d.length; j++) out[o++] = d[j]!;
  }
  out[o++] = 0x0a;
  return out.subarray(0, o);
}

export interface SampleOptions {
  /** Rows of training.csv. */
  rows: number;
  /** Images of test.csv. */
  testRows: number;
  seed: number;
  /** Faces rendered so far out of rows + testRows. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Writes training.csv, test.csv and IdLookupTable.csv of generated faces into `outDir`. Like the real
 * table, the lookup asks for only the 8 coordinates of the 4 always-labelled keypoints for about two
 * thirds of the test images and for all 30 for the others.
 */
export async function writeSampleData(outDir: string, opts: SampleOptions): Promise<void> {
  if (!(Number.isInteger(opts.rows) && opts.rows >= 1))
    throw new Error(`expected rows to be a positive integer, found ${opts.rows}`);
  if (!(Number.isInteger(opts.testRows) && opts.testRows >= 1)) {
    throw new Error(`expected testRows to be a positive integer, found ${opts.testRows}`);
  }
  await fs.mkdir(outDir, { recursive: true });
  const total = opts.rows + opts.testRows;
  const rng = seedrandom.alea(String(opts.seed));
  // Separate streams for faces and for patterns, so adding rows never changes the faces before them.
  const patternRng = seedrandom.alea(`${opts.seed}:pattern`);
  let done = 0;
  // Write to temporary names and rename at the end, so an interrupted run never leaves a file that
  // looks complete to ensureSampleData.
  const tmp = (name: string) => path.join(outDir, `${name}.partial`);

  await withLines(tmp(DATA_FILES.training), async (line) => {
    await line(TRAINING_HEADER.join(','));
    await renderInOrder(opts.rows, rng, async (face) => {
      const present = samplePresence(patternRng);
      const labels = Array.from(face.labelsPx, (v, c) => (present[c >> 1] ? label(v) : ''));
      await line(csvRow(`${labels.join(',')},`, face.pixels));
      opts.onProgress?.(++done, total);
    });
  });

  const lookupFeatures: string[][] = [];
  await withLines(tmp(DATA_FILES.test), async (line) => {
    await line(TEST_HEADER.join(','));
    await renderInOrder(opts.testRows, rng, async (face, i) => {
      const four = patternRng() < FOUR_ONLY_SHARE;
      lookupFeatures.push(
        four
          ? KEYPOINT_COLUMNS.filter((c) => ALWAYS_LABELLED.some((k) => c.startsWith(`${k}_`)))
          : [...KEYPOINT_COLUMNS],
      );
      await line(csvRow(`${i + 1},`, face.pixels));
      opts.onProgress?.(++done, total);
    });
  });

  await withLines(tmp(DATA_FILES.lookup), async (line) => {
    await line(LOOKUP_HEADER.join(','));
    let rowId = 1;
    for (const [i, features] of lookupFeatures.entries()) {
      for (const feature of features) await line(`${rowId++},${i + 1},${feature},`);
    }
  });

  for (const name of [DATA_FILES.training, DATA_FILES.test, DATA_FILES.lookup]) {
    await fs.rename(tmp(name), path.join(outDir, name));
  }
}
