import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { glob } from 'tinyglobby';

/** What predict reads: image files, and Kaggle-format test.csv files (`ImageId,Image`) of 96x96 images. */
export interface PredictInputs {
  images: string[];
  kaggleTests: string[];
  /** Arguments that name nothing predict can read, with the reason. */
  failures: { file: string; reason: string }[];
}

/**
 * Extensions taken from a folder: the formats sharp reads without extra libraries. A file named on the
 * command line is tried whatever its name; a folder's README or .DS_Store is not an unreadable image.
 */
const IMAGE_EXTENSIONS = new Set([
  '.jpg',
  '.jpeg',
  '.jpe',
  '.png',
  '.webp',
  '.gif',
  '.tif',
  '.tiff',
  '.avif',
  '.heic',
  '.heif',
  '.svg',
  '.jp2',
  '.jxl',
]);

const GLOB_CHARACTERS = /[*?[\]{}]/;

/** The Kaggle test file is recognised by its extension; its loader then checks the header. */
const isCsv = (file: string) => path.extname(file).toLowerCase() === '.csv';

/** A Kaggle test.csv or an image: what one file on the command line (or matched by a pattern) is. */
function addFile(out: PredictInputs, file: string): void {
  if (isCsv(file)) out.kaggleTests.push(file);
  else out.images.push(file);
}

/**
 * Files named on the command line, in order; a folder contributes the images directly inside it, sorted;
 * a quoted pattern (`'shots/**\/*.jpg'`, which the shell leaves alone) the files it matches, sorted.
 */
export async function expandInputs(args: readonly string[]): Promise<PredictInputs> {
  const out: PredictInputs = { images: [], kaggleTests: [], failures: [] };
  for (const arg of args) {
    const stat = await fs.stat(arg).catch(() => null);
    if (stat?.isDirectory()) {
      const names = (await fs.readdir(arg, { withFileTypes: true }))
        .filter(
          // Hidden files (macOS writes `._photo.jpg` beside photo.jpg on some disks) are not pictures.
          (d) =>
            d.isFile() && !d.name.startsWith('.') && IMAGE_EXTENSIONS.has(path.extname(d.name).toLowerCase()),
        )
        .map((d) => d.name)
        .sort();
      if (names.length === 0)
        out.failures.push({
          file: arg,
          reason: `expected images (${[...IMAGE_EXTENSIONS].join(' ')}) in this folder, found none`,
        });
      out.images.push(...names.map((n) => path.join(arg, n)));
    } else if (stat === null && GLOB_CHARACTERS.test(arg)) {
      // tinyglobby: the same pattern syntax as the shells' and other tools' globs, without hidden files.
      const matches = (
        await glob(arg, { onlyFiles: true, expandDirectories: false, absolute: path.isAbsolute(arg) })
      ).sort();
      if (matches.length === 0)
        out.failures.push({
          file: arg,
          reason: 'expected a file, a folder or a pattern, found a pattern that matched nothing',
        });
      for (const file of matches) addFile(out, file);
    } else addFile(out, arg);
  }
  return out;
}
