import sharp from 'sharp';
import { IMAGE_SIZE, PIXELS } from '../../contracts/keypoints';

/** How an image of any size is brought to the network's 96x96: its centre square, padded to a square, or a box. */
export type FitMode = 'crop' | 'pad' | 'box';

/** A rectangle in the original image's pixels; it may reach past the image's edges (those pixels are black). */
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** The part of the original image that becomes the 96x96 network input. */
export function fitBox(width: number, height: number, mode: FitMode, box?: Box): Box {
  if (mode === 'box') {
    if (!box) throw new Error('--fit box: expected a box --box x,y,w,h, found none');
    return box;
  }
  const side = mode === 'crop' ? Math.min(width, height) : Math.max(width, height);
  return { x: Math.floor((width - side) / 2), y: Math.floor((height - side) / 2), w: side, h: side };
}

/**
 * A point of the 96x96 input in the original image's pixels. Pixel centres sit on integers (the dataset's
 * convention), so input pixel u covers [u - 0.5, u + 0.5] and the box's left edge is at box.x - 0.5.
 */
export function toOriginal(box: Box, u: number, v: number): { x: number; y: number } {
  return {
    x: box.x + ((u + 0.5) * box.w) / IMAGE_SIZE - 0.5,
    y: box.y + ((v + 0.5) * box.h) / IMAGE_SIZE - 0.5,
  };
}

/** The inverse of toOriginal: an original pixel's place in the 96x96 input. */
export function toNetwork(box: Box, x: number, y: number): { u: number; v: number } {
  return {
    u: ((x + 0.5 - box.x) * IMAGE_SIZE) / box.w - 0.5,
    v: ((y + 0.5 - box.y) * IMAGE_SIZE) / box.h - 0.5,
  };
}

/** `x,y,w,h` of --box, integers with w and h positive. */
export function parseBox(text: string): Box {
  const parts = text.split(',').map((p) => Number(p.trim()));
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p)) || parts[2]! <= 0 || parts[3]! <= 0)
    throw new Error(`--box: expected x,y,w,h (integers, w and h > 0), found "${text}"`);
  const [x, y, w, h] = parts as [number, number, number, number];
  return { x, y, w, h };
}

export interface NetworkImage {
  /** 96x96 greyscale, row-major, as the training images. */
  pixels: Uint8Array;
  width: number;
  height: number;
  box: Box;
}

/** Read any image sharp reads, in greyscale, and cut, pad and scale it to the network's input. */
export async function loadNetworkImage(file: string, mode: FitMode, box?: Box): Promise<NetworkImage> {
  const meta = await sharp(file).metadata();
  // A photo's EXIF orientation is applied, as viewers do: coordinates are those of the picture as seen.
  const { width, height } = meta.autoOrient ?? meta;
  if (!width || !height) throw new Error(`expected an image with a width and height, found ${meta.format}`);
  const b = fitBox(width, height, mode, box);
  const left = Math.max(0, b.x);
  const top = Math.max(0, b.y);
  const right = Math.min(width, b.x + b.w);
  const bottom = Math.min(height, b.y + b.h);
  if (right <= left || bottom <= top)
    throw new Error(`box ${b.x},${b.y},${b.w},${b.h} lies outside the ${width}x${height} image`);
  const region = { left, top, width: right - left, height: bottom - top };
  const grey = () => sharp(file).autoOrient().removeAlpha().greyscale().toColourspace('b-w').extract(region);
  const inside = left === b.x && top === b.y && right === b.x + b.w && bottom === b.y + b.h;
  // A box inside the image is cut and scaled in one pass. One reaching past the edges takes two: sharp
  // resizes before it extends, and the black padding must be scaled with the image.
  const { data, info } = inside
    ? await grey().resize(IMAGE_SIZE, IMAGE_SIZE, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true })
    : await padAndScale(
        await grey()
          .extend({
            left: left - b.x,
            top: top - b.y,
            right: b.x + b.w - right,
            bottom: b.y + b.h - bottom,
            background: { r: 0, g: 0, b: 0 },
          })
          .raw()
          .toBuffer({ resolveWithObject: true }),
      );
  const pixels = new Uint8Array(PIXELS);
  for (let i = 0; i < PIXELS; i++) pixels[i] = data[i * info.channels]!;
  return { pixels, width, height, box: b };
}

async function padAndScale(boxed: { data: Buffer; info: sharp.OutputInfo }) {
  return sharp(boxed.data, {
    raw: { width: boxed.info.width, height: boxed.info.height, channels: boxed.info.channels },
  })
    .resize(IMAGE_SIZE, IMAGE_SIZE, { fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
}
