import seedrandom from 'seedrandom';
import { augmentFace, augmentSet, wiener } from '../../../trainer/data/augment';
import type { FaceSet } from '../../../trainer/data/dataset';
import { generateFace } from '../../../trainer/data/sample-faces';
import { AUGMENTATIONS } from '../../../trainer/config';
import { PIXELS } from '../../../contracts/keypoints';

/** Sum of squared differences between horizontal neighbours: high for sharp or noisy images. */
function roughness(p: Uint8Array): number {
  let s = 0;
  for (let k = 0; k < PIXELS; k++) if (k % 96 !== 95) s += (p[k + 1]! - p[k]!) ** 2;
  return s;
}

function changed(a: Uint8Array, b: Uint8Array): number {
  let n = 0;
  for (let k = 0; k < PIXELS; k++) if (a[k] !== b[k]) n++;
  return n;
}

describe('augmentFace', () => {
  let face: Uint8Array;
  beforeAll(async () => {
    face = (await generateFace(seedrandom.alea('augment'))).pixels;
  });

  it.each(AUGMENTATIONS)(
    '%s keeps the 96x96 shape, changes the image and leaves the input alone',
    async (name) => {
      const before = Uint8Array.from(face);
      const out = await augmentFace(face, name);
      expect(out.length).toBe(PIXELS);
      expect(changed(out, face)).toBeGreaterThan(PIXELS / 10);
      expect(face).toEqual(before);
    },
  );

  it('contrast-stretch widens the range of values', async () => {
    const dull = face.map((v) => 80 + (v >> 2));
    const out = await augmentFace(dull, 'contrast-stretch');
    expect(Math.max(...out) - Math.min(...out)).toBeGreaterThan(
      1.5 * (Math.max(...dull) - Math.min(...dull)),
    );
  });

  it('sharpen raises and the adaptive filters lower the neighbour differences, 9x9 more than 3x3', async () => {
    const base = roughness(face);
    expect(roughness(await augmentFace(face, 'sharpen'))).toBeGreaterThan(base);
    const r3 = roughness(await augmentFace(face, 'adaptive-3x3'));
    const r9 = roughness(await augmentFace(face, 'adaptive-9x9'));
    expect(r3).toBeLessThan(base);
    expect(r9).toBeLessThan(r3);
  });

  it('the Wiener filter leaves a flat image and a lone strong edge as they are', () => {
    expect(wiener(new Uint8Array(PIXELS).fill(77), 3)).toEqual(new Uint8Array(PIXELS).fill(77));
    const edge = Uint8Array.from({ length: PIXELS }, (_, k) => (k % 96 < 48 ? 20 : 220));
    const out = wiener(edge, 3);
    expect(out[10 * 96 + 10]).toBe(20);
    expect(out[10 * 96 + 80]).toBe(220);
  });
});

describe('augmentSet', () => {
  it('returns the chosen rows then one augmented copy per name, each with its original labels', async () => {
    const rng = seedrandom.alea('set');
    const faces = [await generateFace(rng), await generateFace(rng), await generateFace(rng)];
    const set: FaceSet = {
      count: 3,
      pixels: new Uint8Array(3 * PIXELS),
      labels: new Float32Array(90),
      file: 'generated',
    };
    faces.forEach((f, i) => {
      set.pixels.set(f.pixels, i * PIXELS);
      set.labels.set(f.labelsPx, i * 30);
    });
    const rows = Int32Array.from([2, 0]);
    const out = await augmentSet(set, rows, ['sharpen', 'adaptive-9x9']);
    expect(out.count).toBe(6);
    expect(out.pixels.subarray(0, PIXELS)).toEqual(faces[2]!.pixels);
    expect(out.pixels.subarray(PIXELS, 2 * PIXELS)).toEqual(faces[0]!.pixels);
    expect(out.pixels.subarray(2 * PIXELS, 3 * PIXELS)).toEqual(
      await augmentFace(faces[2]!.pixels, 'sharpen'),
    );
    expect(out.pixels.subarray(5 * PIXELS, 6 * PIXELS)).toEqual(
      await augmentFace(faces[0]!.pixels, 'adaptive-9x9'),
    );
    for (const [copy, row] of [
      [0, 2],
      [1, 0],
      [2, 2],
      [3, 0],
      [4, 2],
      [5, 0],
    ] as const) {
      expect(out.labels.subarray(copy * 30, copy * 30 + 30)).toEqual(
        set.labels.subarray(row * 30, row * 30 + 30),
      );
    }
  });
});
