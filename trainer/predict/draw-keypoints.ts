import sharp from 'sharp';
import { KEYPOINTS } from '../../contracts/keypoints';
import type { ImagePrediction } from './predict-output';

const escapeXml = (s: string) => s.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * An SVG the image's size with a dot and the name of each keypoint, sized to the image. The names run
 * diagonally up and to the right: keypoints side by side (an eye's corners) or one above the other (the
 * lips) then keep their names apart, where level names would overlap.
 */
export function keypointsSvg(p: ImagePrediction): string {
  const side = Math.min(p.width, p.height);
  const r = Math.max(2, Math.round(side / 90));
  const font = Math.max(7, Math.round(side / 36));
  const marks = KEYPOINTS.map((k, i) => {
    const x = p.coordinates[2 * i]!.toFixed(1);
    const y = p.coordinates[2 * i + 1]!.toFixed(1);
    return (
      `<circle cx="${x}" cy="${y}" r="${r}" fill="red" stroke="white" stroke-width="${Math.max(1, r / 3)}"/>` +
      `<text transform="translate(${x} ${y}) rotate(-40)" x="${r + 2}" y="${font / 3}" font-size="${font}" ` +
      `font-family="sans-serif" fill="yellow" stroke="black" stroke-width="${font / 30}">${escapeXml(k)}</text>`
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${p.width}" height="${p.height}">${marks.join('')}</svg>`;
}

/** The original image at its own size (turned by its EXIF orientation) with the keypoints drawn over it, as PNG. */
export async function drawKeypoints(file: string, p: ImagePrediction, outFile: string): Promise<void> {
  await sharp(file)
    .autoOrient()
    .composite([{ input: Buffer.from(keypointsSvg(p)), top: 0, left: 0 }])
    .png()
    .toFile(outFile);
}
