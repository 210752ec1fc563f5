import type { AugmentationName } from '../config';
import { augmentSet } from '../data/augment';
import type { FaceSet } from '../data/dataset';

/**
 * Model 5's training set: the training rows followed by one augmented copy per augmentation. Built once
 * per process and shared by the six augmented specialists (each then keeps the rows it has labels for).
 */
export async function augmentedTrainingSet(
  set: FaceSet,
  rows: Int32Array,
  names: readonly AugmentationName[],
  log: (line: string) => void,
): Promise<FaceSet> {
  const started = Date.now();
  const augmented = await augmentSet(set, rows, names);
  log(
    `augmentation: ${rows.length} training rows x (1 + ${names.length}: ${names.join(', ') || 'none'}) = ` +
      `${augmented.count} images in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  return augmented;
}
