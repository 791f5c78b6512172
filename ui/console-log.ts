/**
 * The console's bytes as the page shows them (since the last reset), with
 * the position of the instruction that wrote each, and the way back from a
 * terminal cell to the byte that wrote it, for click-to-jump.
 *
 * The cell of a byte comes from laying the bytes out as a terminal does:
 * printable characters advance and wrap at the width, CR returns, LF goes
 * down (the terminal does not turn LF into CRLF), backspace and tab move,
 * escape sequences take no room. Output that moves the cursor around with
 * escape sequences (full-screen programs) is beyond this and maps loosely.
 */

/** Where a terminal shows a byte: a row counted from the first line of the log, and a column. */
export interface Cell {
  row: number;
  col: number;
}

export class ConsoleLog {
  private data = new Uint8Array(4096);
  private at = new Float64Array(4096);
  private used = 0;

  get length(): number {
    return this.used;
  }

  get bytes(): Uint8Array {
    return this.data.subarray(0, this.used);
  }

  /** The position that wrote byte `index`, or undefined when not known. */
  positionOf(index: number): number | undefined {
    if (index < 0 || index >= this.used) return undefined;
    const p = this.at[index]!;
    return Number.isNaN(p) ? undefined : p;
  }

  /** Appends output; bytes without positions are marked unknown. */
  append(bytes: Uint8Array, positions?: Float64Array): void {
    this.grow(this.used + bytes.length);
    this.data.set(bytes, this.used);
    if (positions && positions.length === bytes.length) this.at.set(positions, this.used);
    else this.at.fill(NaN, this.used, this.used + bytes.length);
    this.used += bytes.length;
  }

  /** Replaces everything (the console as it was at a new position). */
  reset(bytes: Uint8Array, positions?: Float64Array): void {
    this.used = 0;
    this.append(bytes, positions);
  }

  /** The index of the byte shown at `cell` (rows from the log's first line) of a terminal `cols` wide, or -1. */
  indexAt(cols: number, cell: Cell): number {
    let hit = -1;
    layout(this.bytes, cols, (i, row, col) => {
      if (row === cell.row && col === cell.col) hit = i;
    });
    return hit;
  }

  /** The row the cursor ends on after the whole log, counted from the log's first line. */
  cursorRow(cols: number): number {
    return layout(this.bytes, cols, () => {}).row;
  }

  private grow(size: number): void {
    if (size <= this.data.length) return;
    let n = this.data.length;
    while (n < size) n *= 2;
    const data = new Uint8Array(n);
    data.set(this.data.subarray(0, this.used));
    const at = new Float64Array(n);
    at.set(this.at.subarray(0, this.used));
    this.data = data;
    this.at = at;
  }
}

const ESC = 0x1b;

/**
 * Lays bytes out on a terminal `cols` wide, calling `put` for each byte
 * that takes a cell; returns where the cursor ends.
 */
export function layout(bytes: Uint8Array, cols: number, put: (index: number, row: number, col: number) => void): Cell {
  let row = 0;
  let col = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === ESC) {
      i = skipEscape(bytes, i);
      continue;
    }
    if (b >= 0x20 && b !== 0x7f && (b < 0x80 || b >= 0xc0)) {
      // A character (UTF-8 continuation bytes belong to the one before); a full line wraps first.
      if (col >= cols) {
        row++;
        col = 0;
      }
      put(i, row, col);
      col++;
      continue;
    }
    switch (b) {
      case 0x0a:
      case 0x0b:
      case 0x0c:
        row++;
        break;
      case 0x0d:
        col = 0;
        break;
      case 0x08:
        col = Math.max(0, Math.min(col, cols - 1) - 1);
        break;
      case 0x09:
        col = Math.min(cols - 1, (Math.floor(col / 8) + 1) * 8);
        break;
    }
  }
  return { row, col };
}

/** The index of the last byte of the escape sequence starting at `i`. */
function skipEscape(bytes: Uint8Array, i: number): number {
  const kind = bytes[i + 1];
  if (kind === undefined) return i;
  if (kind === 0x5b) {
    // CSI: parameters and intermediates, then one final byte in 0x40..0x7e.
    let j = i + 2;
    while (j < bytes.length && (bytes[j]! < 0x40 || bytes[j]! > 0x7e)) j++;
    return j;
  }
  if (kind === 0x5d || kind === 0x50) {
    // OSC and DCS: up to BEL or ESC \.
    let j = i + 2;
    while (j < bytes.length && bytes[j] !== 0x07 && !(bytes[j] === ESC && bytes[j + 1] === 0x5c)) j++;
    return bytes[j] === ESC ? j + 1 : j;
  }
  return i + 1;
}
