import sharp from 'sharp';
import type { OverlayOptions } from 'sharp';
import { COORDINATES, IMAGE_SIZE, PIXELS } from '../../contracts/keypoints';
import { FONT, escapeXml } from './rasterize';

/** One dev image with its true keypoints (NaN where missing) and the model's predictions, in pixels. */
export interface FaceTile {
  pixels: Uint8Array;
  truePx: Float32Array;
  predPx: Float32Array;
  rmsePx: number;
  caption: string;
}

const SCALE = 3;
const TILE = IMAGE_SIZE * SCALE;
const GAP = 18;
const HEADER = 64;
const ROW_TITLE = 26;
const CAPTION = 24;
const TRUE_COLOUR = '#2fd05f';
const PRED_COLOUR = '#ff3b6b';

/**
 * `report/best-worst.png`: the best and the worst dev images of the best model, upscaled 3x, true keypoints
 * as green rings and predictions as red crosses, joined by a thin line so the size of each error shows.
 */
export async function renderBestWorst(
  modelName: string,
  best: FaceTile[],
  worst: FaceTile[],
): Promise<Buffer> {
  const columns = Math.max(1, best.length, worst.length);
  const width = GAP + columns * (TILE + GAP);
  const rowHeight = ROW_TITLE + TILE + CAPTION;
  const height = HEADER + 2 * rowHeight + GAP;
  const rows: Array<{ title: string; tiles: FaceTile[] }> = [
    { title: `Best ${best.length} dev images`, tiles: best },
    { title: `Worst ${worst.length} dev images`, tiles: worst },
  ];

  const composites: OverlayOptions[] = [];
  const svg: string[] = [
    `<svg xmlns='http://www.w3.org/2000/svg' width='${width}' height='${height}'>`,
    `<text x='${GAP}' y='26' ${FONT} font-size='18' font-weight='bold' fill='#212529'>${escapeXml(modelName)}: best and worst dev images by RMSE</text>`,
    `<circle cx='${GAP + 7}' cy='46' r='5' fill='none' stroke='${TRUE_COLOUR}' stroke-width='2.5'/>`,
    `<text x='${GAP + 18}' y='51' ${FONT} font-size='13' fill='#212529'>true keypoint</text>`,
    cross(GAP + 130, 46, PRED_COLOUR),
    `<text x='${GAP + 142}' y='51' ${FONT} font-size='13' fill='#212529'>predicted keypoint</text>`,
  ];
  for (const [r, row] of rows.entries()) {
    const y0 = HEADER + r * rowHeight;
    svg.push(
      `<text x='${GAP}' y='${y0 + 18}' ${FONT} font-size='15' font-weight='bold' fill='#343a40'>${escapeXml(row.title)}</text>`,
    );
    for (const [c, tile] of row.tiles.entries()) {
      const left = GAP + c * (TILE + GAP);
      const top = y0 + ROW_TITLE;
      composites.push({ input: await upscale(tile.pixels), left, top });
      svg.push(...markers(tile, left, top));
      svg.push(
        `<text x='${left + TILE / 2}' y='${top + TILE + 17}' ${FONT} font-size='12' fill='#343a40' text-anchor='middle'>` +
          `${escapeXml(tile.caption)} · RMSE ${tile.rmsePx.toFixed(2)} px</text>`,
      );
    }
  }
  svg.push('</svg>');
  composites.push({ input: Buffer.from(svg.join('\n')), left: 0, top: 0 });
  return sharp({ create: { width, height, channels: 3, background: '#ffffff' } })
    .composite(composites)
    .png({ compressionLevel: 9 })
    .toBuffer();
}

async function upscale(pixels: Uint8Array): Promise<Buffer> {
  if (pixels.length !== PIXELS)
    throw new Error(`best-worst picture: expected ${PIXELS} pixels per image, found ${pixels.length}`);
  return sharp(Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength), {
    raw: { width: IMAGE_SIZE, height: IMAGE_SIZE, channels: 1 },
  })
    .resize(TILE, TILE, { kernel: 'cubic' })
    .png()
    .toBuffer();
}

/** Pixel centres sit on integers (contracts/keypoints.ts), so coordinate x is the middle of upscaled column x. */
function markers(tile: FaceTile, left: number, top: number): string[] {
  const out: string[] = [];
  const at = (v: number, origin: number): number => origin + (v + 0.5) * SCALE;
  for (let k = 0; k < COORDINATES; k += 2) {
    const tx = tile.truePx[k] ?? Number.NaN;
    const ty = tile.truePx[k + 1] ?? Number.NaN;
    const px = tile.predPx[k] ?? Number.NaN;
    const py = tile.predPx[k + 1] ?? Number.NaN;
    const hasTrue = Number.isFinite(tx) && Number.isFinite(ty);
    const hasPred = Number.isFinite(px) && Number.isFinite(py);
    if (hasTrue && hasPred) {
      out.push(
        `<line x1='${at(tx, left).toFixed(1)}' y1='${at(ty, top).toFixed(1)}' x2='${at(px, left).toFixed(1)}' ` +
          `y2='${at(py, top).toFixed(1)}' stroke='#ffe066' stroke-width='1.2' opacity='0.9'/>`,
      );
    }
    if (hasTrue) {
      out.push(
        `<circle cx='${at(tx, left).toFixed(1)}' cy='${at(ty, top).toFixed(1)}' r='4.5' fill='none' stroke='${TRUE_COLOUR}' stroke-width='2'/>`,
      );
    }
    // Predictions are drawn only where the truth is known: the dev error is measured there and nowhere else.
    if (hasPred && hasTrue) out.push(cross(at(px, left), at(py, top), PRED_COLOUR));
  }
  return out;
}

function cross(x: number, y: number, colour: string): string {
  const r = 4;
  return (
    `<path d='M${(x - r).toFixed(1)},${(y - r).toFixed(1)} L${(x + r).toFixed(1)},${(y + r).toFixed(1)} ` +
    `M${(x - r).toFixed(1)},${(y + r).toFixed(1)} L${(x + r).toFixed(1)},${(y - r).toFixed(1)}' stroke='${colour}' stroke-width='2.2'/>`
  );
}
