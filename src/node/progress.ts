/** One line of status on stderr, redrawn at most every `interval` ms, shown only when stderr is a terminal. */
export class StatusLine {
  private last = 0;
  private shown = false;
  private readonly enabled = Boolean(process.stderr.isTTY);

  constructor(private readonly interval = 200) {}

  /** Shows `text()` unless it was shown less than `interval` ago (`now` shows it regardless). */
  update(text: () => string, now = false): void {
    if (!this.enabled) return;
    const t = Date.now();
    if (t - this.last < this.interval && !now) return;
    this.last = t;
    process.stderr.write(`\r\x1b[K${text()}`);
    this.shown = true;
  }

  /** Removes the line (before other output, and at the end). */
  clear(): void {
    if (!this.shown) return;
    process.stderr.write('\r\x1b[K');
    this.shown = false;
  }
}

/** A progress bar on stderr for long work, shown only when stderr is a terminal. */
export class ProgressBar {
  private readonly line = new StatusLine(100);

  constructor(private readonly label: string) {}

  update(done: number, total: number): void {
    if (total <= 0) return;
    const width = 30;
    const fraction = Math.min(1, done / total);
    const filled = Math.round(fraction * width);
    this.line.update(
      () => `${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0)}%`,
      done >= total,
    );
  }

  done(): void {
    this.line.clear();
  }
}

/** Bytes as a short figure: 812 KiB, 1.4 GiB. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let u = 0;
  while (n >= 1024 && u < units.length - 1) {
    n /= 1024;
    u++;
  }
  return `${n >= 100 || u === 0 ? n.toFixed(0) : n.toFixed(1)} ${units[u]}`;
}
