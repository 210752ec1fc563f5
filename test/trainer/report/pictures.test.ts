import sharp from 'sharp';
import { COORDINATES, PIXELS } from '../../../contracts/keypoints';
import { renderBestWorst, type FaceTile } from '../../../trainer/report/best-worst';
import { learningCurvesSvg, logTicks, renderLearningCurves } from '../../../trainer/report/learning-curves';

function tile(offset: number): FaceTile {
  const truePx = new Float32Array(COORDINATES).fill(40);
  const predPx = new Float32Array(COORDINATES).fill(40 + offset);
  return {
    pixels: new Uint8Array(PIXELS).fill(90),
    truePx,
    predPx,
    rmsePx: offset,
    caption: `row ${offset}`,
  };
}

describe('report pictures', () => {
  it('draws one panel per unit with both curves and the mean reference', async () => {
    const curves = [1, 2, 3, 4].map((u) => ({
      unit: `unit-${u}`,
      bestEpoch: 3,
      points: [1, 2, 3, 4].map((epoch) => ({ epoch, trainRmsePx: 6 / epoch, devRmsePx: 7 / epoch })),
    }));
    const svg = learningCurvesSvg(curves, 3.2);
    for (const c of curves) expect(svg).toContain(`>${c.unit}</text>`);
    expect(svg.match(/<polyline /g)).toHaveLength(8);
    expect(svg).toContain('Model 0 (mean), dev 3.20 px');
    const png = await renderLearningCurves(curves, 3.2);
    const meta = await sharp(png).metadata();
    expect(meta.format).toBe('png');
    // Three panels a row: four units take two rows.
    expect(meta.width).toBe(3 * 360 + 20);
    expect(meta.height).toBe(56 + 2 * 240 + 10);
  });

  it('labels a log axis with at least two ticks, even over a narrow range', () => {
    expect(logTicks(0.9, 11)).toEqual([1, 2, 5, 10]);
    expect(logTicks(1.1, 1.9).length).toBeGreaterThanOrEqual(1);
    expect(logTicks(2.1, 4.5)).toEqual([3, 4]);
  });

  it('places the face images upscaled with markers on them', async () => {
    const png = await renderBestWorst('Model 3 (baseline)', [tile(10), tile(12)], [tile(15), tile(14)]);
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect(info.width).toBe(18 + 2 * (288 + 18));
    // The face's grey (90) shows inside the first tile, away from any marker.
    const x = 18 + 10;
    const y = 64 + 26 + 10;
    const i = (y * info.width + x) * info.channels;
    expect([data[i], data[i + 1], data[i + 2]]).toEqual([90, 90, 90]);
    // A true keypoint at (40, 40) is a green ring (radius 4.5) around the middle of upscaled pixel 40: its left rim is green.
    const cx = 18 + Math.floor((40 + 0.5) * 3 - 4.5);
    const cy = 64 + 26 + Math.floor((40 + 0.5) * 3);
    const j = (cy * info.width + cx) * info.channels;
    expect(data[j + 1]).toBeGreaterThan(data[j] ?? 255);
    expect(data[j + 1]).toBeGreaterThan(150);
  });
});
