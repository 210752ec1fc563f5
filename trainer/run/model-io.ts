import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { parseJson } from '../../common/parse-json';
import { runLayout } from '../../contracts/run-layout';
import type { Store } from '../storage/store';

const WEIGHTS_FILE = 'weights.bin';

/** What loadModel needs of `model.json`: a topology and the weight files it names (tfjs checks the rest). */
const ModelJsonSchema = z.looseObject({
  modelTopology: z.record(z.string(), z.unknown()),
  weightsManifest: z.array(z.looseObject({ paths: z.array(z.string()), weights: z.array(z.unknown()) })),
});

/**
 * Save a trained model into the run store as `model.json` + `weights.bin` (the layout tf.loadLayersModel
 * reads from a folder or URL). The weights go first, so a reader that finds model.json finds its weights.
 */
export async function saveModel(model: tf.LayersModel, store: Store, unit: string): Promise<void> {
  const dir = runLayout.modelDir(unit);
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      if (!artifacts.weightData || !artifacts.weightSpecs)
        throw new Error(`saving model "${unit}": tfjs produced no weights`);
      const weights = new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData));
      await store.put(`${dir}/${WEIGHTS_FILE}`, weights);
      const modelJson = {
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs }],
      };
      await store.put(runLayout.modelJson(unit), JSON.stringify(modelJson));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
}

/** Load a model saved by saveModel from the run store (any Store: local folder or S3). */
export async function loadModel(store: Store, unit: string): Promise<tf.LayersModel> {
  return loadModelFrom(store, runLayout.modelDir(unit), `"${unit}"`);
}

/** Load `model.json` + weights from folder `dir` of the store ('' for its root); `what` names it in errors. */
export async function loadModelFrom(store: Store, dir: string, what: string): Promise<tf.LayersModel> {
  const keyOf = (name: string) => (dir === '' ? name : `${dir}/${name}`);
  const jsonKey = keyOf('model.json');
  return tf.loadLayersModel({
    load: async () => {
      const body = await store.get(jsonKey);
      if (body === null)
        throw new Error(`expected the model of ${what} at ${jsonKey} in ${store.url}, found nothing`);
      const parsed = parseJson(body.toString('utf8'), ModelJsonSchema, `${store.url}/${jsonKey}`);
      const modelJson = parsed as unknown as tf.io.ModelJSON;
      return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        const specs: tf.io.WeightsManifestEntry[] = [];
        const parts: Buffer[] = [];
        for (const group of manifest) {
          for (const p of group.paths) {
            const key = keyOf(p);
            const data = await store.get(key);
            if (data === null)
              throw new Error(`expected the weights of ${what} at ${key} in ${store.url}, found nothing`);
            parts.push(data);
          }
          specs.push(...group.weights);
        }
        const joined = Buffer.concat(parts);
        return [specs, joined.buffer.slice(joined.byteOffset, joined.byteOffset + joined.byteLength)];
      });
    },
  });
}
