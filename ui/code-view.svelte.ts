/**
 * The lines the disassembly shows: around pc while it follows pc, or around
 * an address the user went to, and more above or below as they scroll
 * (asked of the worker a page at a time).
 */
import type { Request } from '../src/web/client.js';
import type { DisasmLine } from '../src/web/protocol.js';

/** Lines asked for on each side of pc or a go-to address, and per scroll. */
const AROUND_BEFORE = 16;
const AROUND_AFTER = 48;
const PAGE = 32;
/** The most lines kept: scrolling on drops the far end. */
const MAX_LINES = 600;

type Ask = (cmd: Extract<Request, { type: 'disassemble' }>) => Promise<DisasmLine[] | undefined>;

export class CodeView {
  lines = $state.raw<DisasmLine[]>([]);
  /** True while the view shows pc (every stop shows it again); false after a go-to or a scroll. */
  followsPc = $state(true);
  /** The address the user went to, marked in the view (null while following pc). */
  target = $state<number | null>(null);
  /** Bumped when the lines are replaced (not when a scroll adds some): the view then shows pc or the target. */
  reloaded = $state(0);
  /** Bumped by every reload: a page asked for before it is dropped when it comes back. */
  private generation = 0;
  private extending = false;
  /** Sides where memory stopped being readable (no more to load) since the last reload. */
  private ends = { up: false, down: false };

  constructor(private readonly ask: Ask) {}

  /** Shows pc again, when following it (after a stop, or while running). */
  async refresh(): Promise<void> {
    if (this.followsPc) await this.reload({ before: AROUND_BEFORE, after: AROUND_AFTER });
  }

  /** Follows pc again (a stop does this too). */
  backToPc(): Promise<void> {
    this.followsPc = true;
    this.target = null;
    return this.refresh();
  }

  /** Shows the code at `address`; false when nothing there can be read. */
  async goTo(address: number): Promise<boolean> {
    this.followsPc = false;
    this.target = address >>> 0;
    await this.reload({ address: address >>> 0, before: AROUND_BEFORE, after: AROUND_AFTER });
    return this.lines.length > 0;
  }

  /** The user scrolled: the view stays where they are (until a stop or Back to pc). */
  browse(): void {
    this.followsPc = false;
  }

  /** Loads a page of lines above the first one or below the last one. */
  async more(side: 'up' | 'down'): Promise<void> {
    const lines = this.lines;
    if (this.extending || lines.length === 0 || this.ends[side]) return;
    const generation = this.generation;
    this.extending = true;
    try {
      const edge = side === 'up' ? lines[0]! : lines[lines.length - 1]!;
      const page =
        side === 'up'
          ? await this.ask({ type: 'disassemble', address: edge.address, before: PAGE, after: 0 })
          : await this.ask({
              type: 'disassemble',
              address: (edge.address + edge.length) >>> 0,
              before: 0,
              after: PAGE,
            });
      if (!page || generation !== this.generation) return;
      if (page.length === 0) this.ends[side] = true;
      const all = side === 'up' ? [...page, ...this.lines] : [...this.lines, ...page];
      if (all.length <= MAX_LINES) this.lines = all;
      else this.lines = side === 'up' ? all.slice(0, MAX_LINES) : all.slice(all.length - MAX_LINES);
      // What was dropped can be loaded again.
      if (all.length > MAX_LINES) this.ends[side === 'up' ? 'down' : 'up'] = false;
    } finally {
      this.extending = false;
    }
  }

  private async reload(around: { address?: number; before: number; after: number }): Promise<void> {
    const generation = ++this.generation;
    this.ends = { up: false, down: false };
    const lines = await this.ask({ type: 'disassemble', ...around });
    if (lines && generation === this.generation) {
      this.lines = lines;
      this.reloaded++;
    }
  }
}
