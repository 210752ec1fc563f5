import * as tf from '@tensorflow/tfjs';
import { SeededDropout, attachSeedSource } from '../../../trainer/models/seeded-dropout';
import { SeedSource } from '../../../trainer/models/seed-source';

function net(seeds: SeedSource | null): tf.LayersModel {
  return tf.sequential({ layers: [new SeededDropout({ rate: 0.5, seeds, inputShape: [1000] })] });
}

describe('SeededDropout', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  const ones = () => tf.ones([1, 1000]);
  const train = (m: tf.LayersModel) =>
    tf.tidy(() => Array.from((m.apply(ones(), { training: true }) as tf.Tensor).dataSync()));

  it('draws a fresh mask on every training call, scaled by 1 / (1 - rate)', () => {
    const m = net(new SeedSource(1));
    const first = train(m);
    const second = train(m);
    expect(first).not.toEqual(second);
    const dropped = first.filter((v) => v === 0).length;
    expect(dropped).toBeGreaterThan(400);
    expect(dropped).toBeLessThan(600);
    expect(new Set(first.filter((v) => v !== 0))).toEqual(new Set([2]));
  });

  it('repeats the masks of a generator restored from its saved state (exact resume)', () => {
    const seeds = new SeedSource(3);
    const m = net(seeds);
    train(m);
    const saved = seeds.state();
    const next = [train(m), train(m)];
    const resumed = net(SeedSource.fromState(JSON.parse(JSON.stringify(saved))));
    expect([train(resumed), train(resumed)]).toEqual(next);
  });

  it('passes the input through at inference', () => {
    const m = net(null);
    const out = tf.tidy(() => Array.from((m.predict(ones()) as tf.Tensor).dataSync()));
    expect(out.every((v) => v === 1)).toBe(true);
  });

  it('asks for a generator when training without one, and uses one attached later', () => {
    const m = net(null);
    expect(() => train(m)).toThrow(/training needs a SeedSource; call attachSeedSource/);
    attachSeedSource(m, new SeedSource(1));
    expect(train(m)).toEqual(train(net(new SeedSource(1))));
  });

  it('survives a save and tf.loadLayersModel', async () => {
    const m = tf.sequential({
      layers: [
        tf.layers.dense({ units: 3, inputShape: [2] }),
        new SeededDropout({ rate: 0.25, seeds: new SeedSource(1) }),
      ],
    });
    let artifacts: tf.io.ModelArtifacts | undefined;
    await m.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
    const layer = loaded.layers[1] as SeededDropout;
    expect(layer).toBeInstanceOf(SeededDropout);
    expect(layer.rate).toBe(0.25);
    const x = tf.tensor2d([[1, 2]]);
    expect(Array.from((loaded.predict(x) as tf.Tensor).dataSync())).toEqual(
      Array.from((m.predict(x) as tf.Tensor).dataSync()),
    );
  });
});
