/**
 * The program's ELF symbols as the worker and the page use them: the name
 * at an address (for disassembly labels), "name+0x12" for any address near
 * one (stop reasons), and the address of a name (what a user types: see
 * ui/format.ts resolveAddress). The loader keeps only names a person wrote (core/loader.ts
 * drops mapping symbols and local labels). Pure.
 */
/** How far past a symbol an address is still described by it. */
const REACH = 0x10000;

export class SymbolTable {
  /** One name per address: the first the ELF lists (locals come before globals, so `P` beats `__bss_start`). */
  readonly byAddress: ReadonlyMap<number, string>;
  private readonly byName: ReadonlyMap<string, number>;
  /** Addresses with a name, ascending. */
  private readonly sorted: number[];

  constructor(entries: Iterable<readonly [string, number]>) {
    const byAddress = new Map<number, string>();
    const byName = new Map<string, number>();
    for (const [name, address] of entries) {
      const a = address >>> 0;
      byName.set(name, a);
      if (!byAddress.has(a)) byAddress.set(a, name);
    }
    this.byAddress = byAddress;
    this.byName = byName;
    this.sorted = [...byAddress.keys()].sort((x, y) => x - y);
  }

  static readonly empty = new SymbolTable([]);

  /** Every name, sorted, for suggestions. */
  get names(): string[] {
    return [...this.byName.keys()].sort();
  }

  /** [name, address] pairs, as the worker sends them to the page. */
  entries(): [string, number][] {
    return [...this.byName];
  }

  addressOf(name: string): number | undefined {
    return this.byName.get(name);
  }

  /** "name" at a symbol, "name+0x12" within reach past one, else undefined. */
  describe(address: number): string | undefined {
    const a = address >>> 0;
    let lo = 0;
    let hi = this.sorted.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.sorted[mid]! <= a) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found < 0) return undefined;
    const base = this.sorted[found]!;
    const off = a - base;
    if (off > REACH) return undefined;
    const name = this.byAddress.get(base)!;
    return off === 0 ? name : `${name}+0x${off.toString(16)}`;
  }
}
