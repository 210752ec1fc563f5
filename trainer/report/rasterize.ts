import sharp from 'sharp';

/** Render an SVG document (width and height in px) to PNG with sharp's librsvg: no browser, no network. */
export async function svgToPng(svg: string): Promise<Buffer> {
  return sharp(Buffer.from(svg)).png({ compressionLevel: 9 }).toBuffer();
}

/** Escape text for SVG element content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export const FONT = "font-family='DejaVu Sans, Liberation Sans, Arial, sans-serif'";
