/**
 * The guest's console on a Node process: output to stdout byte for byte,
 * input from a file, a pipe, or a terminal in raw mode (Ctrl-A X quits, as
 * in QEMU; Ctrl-A Ctrl-A sends Ctrl-A). It is I/O only: what it reads goes
 * to `input` (the session's `type`), what the guest writes comes to `write`.
 */
const CTRL_A = 0x01;

export class NodeConsole {
  /** True once no more input can arrive. */
  ended = false;
  /** Set when the user asked to quit from the terminal. */
  quit = false;
  private out: number[] = [];
  private wake: (() => void) | null = null;
  private escape = false;
  private readonly onData = (chunk: Buffer) => this.receive(chunk);
  private readonly onEnd = () => {
    this.ended = true;
    this.notify();
  };
  private rawMode = false;

  constructor(
    private readonly input: (bytes: Uint8Array) => void,
    source: { file: Uint8Array } | 'stdin',
  ) {
    if (source === 'stdin') {
      const stdin = process.stdin;
      if (stdin.isTTY) {
        stdin.setRawMode(true);
        this.rawMode = true;
      }
      stdin.on('data', this.onData);
      stdin.on('end', this.onEnd);
      stdin.on('error', this.onEnd);
    } else {
      input(source.file);
      this.ended = true;
    }
  }

  /** A byte the guest wrote. */
  write(byte: number): void {
    this.out.push(byte);
    if (this.out.length >= 65536) this.flush();
  }

  private receive(chunk: Buffer): void {
    if (!this.rawMode) {
      this.input(chunk);
    } else {
      const typed: number[] = [];
      for (const b of chunk) {
        if (this.escape) {
          this.escape = false;
          if (b === 0x78 || b === 0x58)
            this.quit = true; // x: quit
          else if (b === CTRL_A) typed.push(CTRL_A);
          continue;
        }
        if (b === CTRL_A) this.escape = true;
        else typed.push(b);
      }
      if (typed.length > 0) this.input(Uint8Array.from(typed));
    }
    this.notify();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** Resolves when input arrives or ends. */
  waitForInput(): Promise<void> {
    if (this.ended || this.quit) return Promise.resolve();
    return new Promise((resolve) => (this.wake = resolve));
  }

  /** Called before output is written (a status line on the same terminal clears itself). */
  beforeOutput: (() => void) | null = null;

  flush(): void {
    if (this.out.length === 0) return;
    this.beforeOutput?.();
    process.stdout.write(Buffer.from(this.out));
    this.out = [];
  }

  close(): void {
    this.flush();
    const stdin = process.stdin;
    stdin.off('data', this.onData);
    stdin.off('end', this.onEnd);
    stdin.off('error', this.onEnd);
    if (this.rawMode) stdin.setRawMode(false);
    stdin.pause();
    stdin.unref?.();
  }
}
