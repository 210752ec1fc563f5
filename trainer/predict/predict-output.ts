import { KEYPOINT_COLUMNS, KEYPOINTS } from '../../contracts/keypoints';

/** One image's keypoints in its own pixels, 30 values in KEYPOINT_COLUMNS order. */
export interface ImagePrediction {
  image: string;
  width: number;
  height: number;
  coordinates: Float32Array;
}

const csvField = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
const round = (v: number) => Math.round(v * 100) / 100;

/** `image,width,height,<30 keypoint columns>`, one row per image. */
export function predictionsCsv(rows: readonly ImagePrediction[]): string {
  const lines = [['image', 'width', 'height', ...KEYPOINT_COLUMNS].join(',')];
  for (const r of rows)
    lines.push([csvField(r.image), r.width, r.height, ...Array.from(r.coordinates, round)].join(','));
  return `${lines.join('\n')}\n`;
}

/** `[{image, width, height, keypoints: {name: {x, y}}}]`. */
export function predictionsJson(rows: readonly ImagePrediction[]): string {
  const out = rows.map((r) => ({
    image: r.image,
    width: r.width,
    height: r.height,
    keypoints: Object.fromEntries(
      KEYPOINTS.map((k, i) => [k, { x: round(r.coordinates[2 * i]!), y: round(r.coordinates[2 * i + 1]!) }]),
    ),
  }));
  return `${JSON.stringify(out, null, 2)}\n`;
}
