import type { AugmentationName } from '../config';
import type { FaceSet } from '../data/dataset';

/** The training rows plus their augmented copies (Model 5's training set). */
export async function augmentedTrainingSet(
  _set: FaceSet,
  _rows: Int32Array,
  _names: readonly AugmentationName[],
  _log: (line: string) => void,
): Promise<FaceSet> {
  throw new Error('specialists-augmented: augmentation is not available in this build');
}
