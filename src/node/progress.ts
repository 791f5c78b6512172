/** A progress bar on stderr for long work, shown only when stderr is a terminal. */
export class ProgressBar {
  private last = 0;
  private readonly enabled = Boolean(process.stderr.isTTY);

  constructor(private readonly label: string) {}

  update(done: number, total: number): void {
    if (!this.enabled || total <= 0) return;
    const now = Date.now();
    if (now - this.last < 100 && done < total) return;
    this.last = now;
    const width = 30;
    const fraction = Math.min(1, done / total);
    const filled = Math.round(fraction * width);
    process.stderr.write(
      `\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0)}%`,
    );
  }

  done(): void {
    if (this.enabled && this.last > 0) process.stderr.write('\r\x1b[K');
  }
}

/** One line of status on stderr, redrawn at most five times a second, shown only when stderr is a terminal. */
export class StatusLine {
  private last = 0;
  private shown = false;
  private readonly enabled = Boolean(process.stderr.isTTY);

  /** Shows `text()` unless it was shown less than 200 ms ago. */
  update(text: () => string): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.last < 200) return;
    this.last = now;
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
