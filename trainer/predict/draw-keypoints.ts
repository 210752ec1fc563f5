import sharp from 'sharp';
import { KEYPOINTS } from '../../contracts/keypoints';
import type { ImagePrediction } from './predict-output';

const escapeXml = (s: string) => s.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** An SVG the image's size with a dot and the name of each keypoint, sized to the image. */
export function keypointsSvg(p: ImagePrediction): string {
  const r = Math.max(2, Math.round(Math.min(p.width, p.height) / 80));
  const font = Math.max(8, r * 4);
  const marks = KEYPOINTS.map((k, i) => {
    const x = p.coordinates[2 * i]!.toFixed(1);
    const y = p.coordinates[2 * i + 1]!.toFixed(1);
    return (
      `<circle cx="${x}" cy="${y}" r="${r}" fill="red" stroke="white" stroke-width="1"/>` +
      `<text x="${x}" y="${y}" dx="${r + 2}" dy="${-r}" font-size="${font}" font-family="sans-serif" ` +
      `fill="yellow" stroke="black" stroke-width="0.3">${escapeXml(k)}</text>`
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${p.width}" height="${p.height}">${marks.join('')}</svg>`;
}

/** The original image at its own size with the keypoints drawn over it, as PNG. */
export async function drawKeypoints(file: string, p: ImagePrediction, outFile: string): Promise<void> {
  await sharp(file)
    .composite([{ input: Buffer.from(keypointsSvg(p)), top: 0, left: 0 }])
    .png()
    .toFile(outFile);
}
