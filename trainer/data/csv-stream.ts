import { promises as fs } from 'node:fs';
import { PIXELS } from '../../contracts/keypoints';
import { DataError } from './dataset';

/**
 * A byte-level CSV reader for the Kaggle files, fed from fixed-size fs reads.
 *
 * Hand-written rather than a CSV library because of measured speed: training.csv is 238 MB, 97% of it one
 * field of 9216 space-separated integers per row. A general parser turns that field into a JS string and
 * then splits it (the pandas tutorial way takes 8.7 s and 1.57 GB here); this one parses the digits
 * straight into a Uint8Array as they arrive, so no row is ever a string and memory stays at the bytes.
 *
 * Accepted: LF or CRLF line endings, a final line with or without its newline, a UTF-8 byte order mark,
 * optional double quotes around a field (no quotes inside fields: the Kaggle files have none), runs of
 * spaces between pixel values, a data row that leaves off trailing fields the spec marks optional (the
 * real IdLookupTable.csv omits its empty Location, comma and all). Everything else stops with a DataError
 * naming line and column.
 */

const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const SPACE = 0x20;
const ZERO = 0x30;
const NINE = 0x39;

/** Longest text accepted in a non-pixel field; a longer one means the columns are not what we expect. */
const MAX_SCALAR_BYTES = 256;
const READ_CHUNK_BYTES = 4 << 20;

export interface CsvSpec {
  /** Expected header, compared field by field. */
  header: readonly string[];
  /** Index of the pixel-list field (the last one), or -1 when the file has none. */
  pixelsField: number;
  /**
   * Leading fields every data row must have. A row may stop after them: each field it leaves off reaches
   * onScalar as empty text, as if written with its comma. The header is always compared in full; the
   * pixel field cannot be optional. @default header.length
   */
  requiredFields?: number;
  /**
   * Called for every non-pixel field of a data row (row counts from 0, line and column locate the field
   * for error messages). It throws a DataError itself when the text is invalid.
   */
  onScalar(row: number, field: number, text: string, line: number, column: number): void;
}

export interface CsvReadOptions {
  /** Stop after this many data rows (0 or absent: read all). */
  maxRows?: number;
  /** Called after each read with the bytes consumed so far and the file size. */
  onProgress?: (bytes: number, total: number) => void;
  /** Rows to reserve room for at first; the pixel buffer grows by half when full. */
  expectedRows?: number;
}

export interface CsvReadResult {
  rows: number;
  /** rows * 9216 bytes (empty when the spec has no pixel field); trimmed to `rows`. */
  pixels: Uint8Array;
}

/** Streams `file` through the spec's checks; pixel values land in one growing byte buffer. */
export async function readCsv(
  file: string,
  spec: CsvSpec,
  opts: CsvReadOptions = {},
): Promise<CsvReadResult> {
  const handle = await fs.open(file, 'r');
  try {
    const total = (await handle.stat()).size;
    const parser = new CsvParser(file, spec, opts.maxRows ?? 0, opts.expectedRows ?? 1024);
    const buf = Buffer.allocUnsafe(READ_CHUNK_BYTES);
    let consumed = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, Math.min(buf.length, total - consumed), consumed);
      if (bytesRead === 0) break;
      const more = parser.feed(buf, bytesRead);
      consumed += bytesRead;
      opts.onProgress?.(consumed, total);
      if (!more) break;
    }
    return parser.finish();
  } finally {
    await handle.close();
  }
}

class CsvParser {
  private readonly nFields: number;
  private readonly requiredFields: number;
  private readonly scratch = Buffer.alloc(MAX_SCALAR_BYTES);
  private pixels: Uint8Array;
  private capacityRows: number;

  /** Absolute byte offset of buf[0] of the current chunk. */
  private chunkStart = 0;
  private line = 1;
  private lineStart = 0;
  private inHeader = true;
  private headerFields: string[] = [];
  private rows = 0;
  private done = false;
  /** A CR ended the last line; a following LF belongs to it. */
  private crPending = false;
  /** Line number of a blank line seen after the header (fine at the end of the file, an error before a row). */
  private blankLine = 0;

  private field = 0;
  private fieldStart = 0;
  /** Bytes seen in the current field, quotes excluded (tells an empty field from a blank line). */
  private fieldBytes = 0;
  private inQuotes = false;
  private quoteClosed = false;
  private scratchLen = 0;

  private pixBase = 0;
  private pixCount = 0;
  private pixValue = 0;
  private pixDigits = 0;

  constructor(
    private readonly file: string,
    private readonly spec: CsvSpec,
    private readonly maxRows: number,
    expectedRows: number,
  ) {
    this.nFields = spec.header.length;
    this.requiredFields = spec.requiredFields ?? this.nFields;
    if (
      !(
        this.requiredFields >= 1 &&
        this.requiredFields <= this.nFields &&
        this.requiredFields > spec.pixelsField
      )
    ) {
      throw new Error(
        `expected requiredFields within [${Math.max(1, spec.pixelsField + 1)}, ${this.nFields}] for ${file}, found ${this.requiredFields}`,
      );
    }
    this.capacityRows =
      spec.pixelsField >= 0 ? Math.max(1, maxRows > 0 ? Math.min(maxRows, expectedRows) : expectedRows) : 0;
    this.pixels = new Uint8Array(this.capacityRows * PIXELS);
  }

  private fail(abs: number, detail: string): never {
    throw new DataError(this.file, this.line, abs - this.lineStart + 1, detail);
  }

  private inPixelField(): boolean {
    return !this.inHeader && this.field === this.spec.pixelsField;
  }

  /** Parses `n` bytes of `buf`; returns false once maxRows rows are read. */
  feed(buf: Uint8Array, n: number): boolean {
    let i = 0;
    // The file's first bytes: skip a UTF-8 byte order mark.
    if (this.chunkStart === 0 && n >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) {
      i = 3;
      this.lineStart = 3;
      this.fieldStart = 3;
    }
    while (i < n) {
      if (this.crPending) {
        this.crPending = false;
        if (buf[i] === LF) {
          i++;
          this.lineStart = this.chunkStart + i;
          this.fieldStart = this.lineStart;
          continue;
        }
      }
      if (this.inPixelField() && !this.quoteClosed) {
        const from = i;
        i = this.scanPixels(buf, i, n);
        if (i > from) this.fieldBytes += i - from;
        if (i >= n) break;
      }
      const c = buf[i]!;
      const abs = this.chunkStart + i;
      if (c === LF || c === CR) {
        if (this.inQuotes)
          this.fail(abs, 'expected a closing double quote before the end of the line, found none');
        this.endLine(abs);
        i++;
        if (c === CR) this.crPending = true;
        this.lineStart = this.chunkStart + i;
        this.fieldStart = this.lineStart;
        if (this.done) return false;
        continue;
      }
      if (c === QUOTE) {
        if (!this.inQuotes && !this.quoteClosed && this.fieldBytes === 0 && this.scratchLen === 0) {
          this.inQuotes = true;
        } else if (this.inQuotes) {
          this.inQuotes = false;
          this.quoteClosed = true;
        } else {
          this.fail(abs, 'expected a double quote only around a whole field, found one inside it');
        }
        i++;
        continue;
      }
      if (c === COMMA && !(this.inQuotes && !this.inPixelField())) {
        if (this.inQuotes) this.fail(abs, 'expected a closing double quote before the comma, found none');
        this.endField(abs);
        this.field++;
        if (this.field >= this.nFields) {
          this.fail(abs, `expected ${this.nFields} fields, found more`);
        }
        i++;
        this.fieldStart = this.chunkStart + i;
        this.clearField();
        if (this.inPixelField()) this.beginPixels();
        continue;
      }
      if (this.quoteClosed)
        this.fail(abs, `expected a comma or line end after the closing quote, found ${show(c)}`);
      if (this.inPixelField()) {
        this.fail(
          abs,
          `expected a pixel value 0..255 or a space in field ${this.field + 1} (${this.spec.header[this.field]}), found ${show(c)}`,
        );
      }
      if (this.scratchLen >= MAX_SCALAR_BYTES) {
        this.fail(
          this.fieldStart,
          `expected field ${this.field + 1} (${this.spec.header[this.field]}) to be at most ${MAX_SCALAR_BYTES} bytes, ` +
            'found a longer one (is a comma missing before it?)',
        );
      }
      this.scratch[this.scratchLen++] = c;
      this.fieldBytes++;
      i++;
    }
    this.chunkStart += n;
    return true;
  }

  /**
   * The hot loop: parses pixel values from buf[i] on until a byte that is neither digit nor space, or the
   * chunk's end, and returns where it stopped. Whole values are read at once (1-3 digits and the space
   * after them), which takes a third less time than a byte-at-a-time state machine; the byte loop below
   * finishes values cut by the chunk end and reports malformed ones.
   */
  private scanPixels(buf: Uint8Array, i: number, n: number): number {
    let v = this.pixValue;
    let d = this.pixDigits;
    let count = this.pixCount;
    const base = this.pixBase;
    const px = this.pixels;
    // A local copy: some module loaders turn an imported constant into a getter call per use.
    const limit = PIXELS;
    hot: while (i < n) {
      if (d === 0) {
        while (i + 4 <= n) {
          const a = buf[i]! - ZERO;
          if (a >>> 0 > 9) {
            if (buf[i] === SPACE) {
              i++;
              continue;
            }
            break hot;
          }
          const b = buf[i + 1]! - ZERO;
          let value: number;
          let len: number;
          if (b >>> 0 > 9) {
            value = a;
            len = 1;
          } else {
            const c = buf[i + 2]! - ZERO;
            if (c >>> 0 > 9) {
              value = a * 10 + b;
              len = 2;
            } else {
              if ((buf[i + 3]! - ZERO) >>> 0 <= 9) break; // four digits or more: the byte loop reports it
              value = a * 100 + b * 10 + c;
              len = 3;
              if (value > 255) this.failPixel(i + 3, 3, value, count);
            }
          }
          if (count >= limit) this.fail(this.chunkStart + i, `expected ${PIXELS} pixel values, found more`);
          px[base + count++] = value;
          i += len;
          if (buf[i] !== SPACE) break hot;
          i++;
        }
      }
      while (i < n) {
        const c = buf[i]!;
        if (c >= ZERO && c <= NINE) {
          v = v * 10 + (c - ZERO);
          d++;
          i++;
        } else if (c === SPACE) {
          i++;
          if (d > 0) {
            if (v > 255 || d > 3) this.failPixel(i - 1, d, v, count);
            if (count >= limit)
              this.fail(this.chunkStart + i - 1 - d, `expected ${PIXELS} pixel values, found more`);
            px[base + count++] = v;
            v = 0;
            d = 0;
            continue hot;
          }
        } else {
          break hot;
        }
      }
    }
    this.pixValue = v;
    this.pixDigits = d;
    this.pixCount = count;
    return i;
  }

  private failPixel(i: number, d: number, v: number, count: number): never {
    const abs = this.chunkStart + i - d;
    this.fail(
      abs,
      `expected pixel value ${count + 1} to be an integer 0..255, found ${d > 6 ? `${d} digits` : v}`,
    );
  }

  private beginPixels(): void {
    if (this.rows >= this.capacityRows) {
      const grown = Math.max(this.rows + 1, Math.ceil(this.capacityRows * 1.5));
      const next = new Uint8Array(grown * PIXELS);
      next.set(this.pixels.subarray(0, this.rows * PIXELS));
      this.pixels = next;
      this.capacityRows = grown;
    }
    this.pixBase = this.rows * PIXELS;
    this.pixCount = 0;
    this.pixValue = 0;
    this.pixDigits = 0;
  }

  private endField(abs: number): void {
    if (this.inHeader) {
      this.headerFields.push(this.scratch.toString('latin1', 0, this.scratchLen));
      return;
    }
    const col = this.fieldStart - this.lineStart + 1;
    if (this.field === this.spec.pixelsField) {
      let count = this.pixCount;
      if (this.pixDigits > 0) {
        if (this.pixValue > 255 || this.pixDigits > 3)
          this.failPixel(abs - this.chunkStart, this.pixDigits, this.pixValue, count);
        if (count >= PIXELS) this.fail(abs - this.pixDigits, `expected ${PIXELS} pixel values, found more`);
        this.pixels[this.pixBase + count++] = this.pixValue;
        this.pixCount = count;
      }
      if (count !== PIXELS) {
        throw new DataError(
          this.file,
          this.line,
          col,
          `expected ${PIXELS} pixel values (96x96), found ${count}`,
        );
      }
      return;
    }
    this.spec.onScalar(
      this.rows,
      this.field,
      this.scratch.toString('latin1', 0, this.scratchLen),
      this.line,
      col,
    );
  }

  private endLine(abs: number): void {
    const blank =
      this.field === 0 &&
      this.fieldBytes === 0 &&
      this.scratchLen === 0 &&
      !this.quoteClosed &&
      !this.inPixelField();
    if (blank) {
      if (this.inHeader)
        this.fail(
          abs,
          `expected the header ${this.spec.header.slice(0, 3).join(',')},..., found an empty line`,
        );
      if (this.blankLine === 0) this.blankLine = this.line;
      this.line++;
      return;
    }
    if (this.blankLine !== 0) {
      throw new DataError(
        this.file,
        this.blankLine,
        1,
        `expected a data row, found an empty line (line ${this.line} has data again)`,
      );
    }
    this.endField(abs);
    if (this.field + 1 !== this.nFields) this.endShortRow(abs);
    if (this.inHeader) {
      this.checkHeader();
      this.inHeader = false;
    } else {
      this.rows++;
      if (this.maxRows > 0 && this.rows >= this.maxRows) this.done = true;
    }
    this.line++;
    this.field = 0;
    this.clearField();
    if (this.inPixelField()) this.beginPixels();
  }

  /** Forgets what was read of the field just ended. */
  private clearField(): void {
    this.fieldBytes = 0;
    this.quoteClosed = false;
    this.scratchLen = 0;
  }

  /** A line that ended before its last field: fine for a data row that has every required field. */
  private endShortRow(abs: number): void {
    const found = this.field + 1;
    if (this.inHeader || this.requiredFields === this.nFields) {
      this.fail(abs, `expected ${this.nFields} fields, found ${found}`);
    }
    if (found < this.requiredFields) {
      const optional = this.spec.header.slice(this.requiredFields).join(', ');
      this.fail(
        abs,
        `expected ${this.nFields} fields (at least ${this.requiredFields}: ${optional} may be left off), found ${found}`,
      );
    }
    const col = abs - this.lineStart + 1;
    for (let f = found; f < this.nFields; f++) this.spec.onScalar(this.rows, f, '', this.line, col);
  }

  private checkHeader(): void {
    let col = 1;
    for (const [f, name] of this.spec.header.entries()) {
      const found = this.headerFields[f];
      if (found !== name) {
        throw new DataError(
          this.file,
          this.line,
          col,
          `expected header field ${f + 1} to be "${name}", found "${found}"`,
        );
      }
      col += name.length + 1;
    }
  }

  finish(): CsvReadResult {
    if (!this.done) {
      const abs = this.chunkStart;
      const pending =
        this.field > 0 || this.fieldBytes > 0 || this.scratchLen > 0 || this.quoteClosed || this.inQuotes;
      if (this.inQuotes)
        this.fail(abs, 'expected a closing double quote before the end of the file, found none');
      if (pending) this.endLine(abs);
    }
    if (this.inHeader) {
      throw new DataError(
        this.file,
        1,
        1,
        `expected the header ${this.spec.header.slice(0, 3).join(',')},..., found an empty file`,
      );
    }
    if (this.rows === 0) {
      throw new DataError(
        this.file,
        this.line,
        1,
        'expected at least one data row after the header, found none',
      );
    }
    const used = this.rows * PIXELS;
    // Keep a buffer at most a quarter too large as is; copying 65 MB to trim it costs a quarter of the load.
    const pixels =
      used >= this.pixels.length * 0.75 ? this.pixels.subarray(0, used) : this.pixels.slice(0, used);
    return { rows: this.rows, pixels };
  }
}

function show(c: number): string {
  return c >= 0x20 && c < 0x7f ? `"${String.fromCharCode(c)}"` : `byte 0x${c.toString(16).padStart(2, '0')}`;
}
