import { promises as fs } from 'node:fs';
import * as path from 'node:path';

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

/**
 * Files named on the command line, in order; a folder contributes the images directly inside it, sorted.
 * A glob is expanded by the shell before predict sees it, so a pattern that arrives here matched nothing.
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
      out.failures.push({
        file: arg,
        reason:
          'expected a file or folder, found a pattern that matched nothing (the shell expands patterns: leave it unquoted)',
      });
    } else if (isCsv(arg)) out.kaggleTests.push(arg);
    else out.images.push(arg);
  }
  return out;
}
