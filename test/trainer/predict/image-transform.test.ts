import { fitBox, toNetwork, toOriginal } from '../../../trainer/predict/image-transform';

describe('fit box and its inverse', () => {
  const cases = [
    ['crop of a wide image', fitBox(300, 200, 'crop'), { x: 50, y: 0, w: 200, h: 200 }],
    ['pad of a tall image', fitBox(120, 240, 'pad'), { x: -60, y: 0, w: 240, h: 240 }],
    [
      'a given box',
      fitBox(640, 480, 'box', { x: 10, y: 20, w: 192, h: 96 }),
      { x: 10, y: 20, w: 192, h: 96 },
    ],
  ] as const;
  it.each(cases)('%s: the box is where the image is cut', (_name, box, expected) => {
    expect(box).toEqual(expected);
  });
  it.each(cases)('%s: a point of the 96x96 input maps back to its original pixel', (_name, box) => {
    // Input pixel 0 covers the first box.w / 96 original pixels: its centre lies halfway through them.
    const first = toOriginal(box, 0, 0);
    expect(first.x).toBeCloseTo(box.x + box.w / 96 / 2 - 0.5);
    expect(first.y).toBeCloseTo(box.y + box.h / 96 / 2 - 0.5);
    const centre = toOriginal(box, 47.5, 47.5);
    expect(centre.x).toBeCloseTo(box.x + box.w / 2 - 0.5);
    expect(centre.y).toBeCloseTo(box.y + box.h / 2 - 0.5);
    const back = toNetwork(box, toOriginal(box, 12.25, 80).x, toOriginal(box, 12.25, 80).y);
    expect(back.u).toBeCloseTo(12.25);
    expect(back.v).toBeCloseTo(80);
  });
});
