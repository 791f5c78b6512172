import type { DeviceState } from './device.js';
import type { PagedMemory } from './paged.js';

/**
 * Everything about a machine except the contents of RAM and disk: small,
 * plain, msgpack-able data. RAM and disk travel as pages beside it.
 */
export interface MachineState {
  version: number;
  /** Steps since reset (see docs/determinism.md). */
  position: number;
  /** CPU registers and CSRs, by name. */
  cpu: Record<string, unknown>;
  /** Device states by device name. */
  devices: Record<string, DeviceState>;
  /** Anything else the machine keeps (clock, pending host input...), by name. */
  machine: Record<string, unknown>;
}

/** What storage/ needs from a machine to checkpoint and restore it. */
export interface Snapshotable {
  readonly ram: PagedMemory;
  readonly disk: PagedMemory | null;
  /** Steps since reset. */
  readonly position: number;
  saveState(): MachineState;
  /**
   * Restores CPU and devices. RAM and disk contents are restored by the
   * caller writing pages into `ram` / `disk` (before or after, either works).
   */
  loadState(state: MachineState): void;
  /**
   * Must be called after the caller rewrote RAM behind the machine's back,
   * and after loadState: drops TLBs and the decoded code of the RAM pages
   * `rewritten` (of all when omitted), and lets devices read what they keep
   * in RAM (the GPU's pixels, see core/virtio/gpu.ts).
   */
  invalidateCaches(rewritten?: readonly number[]): void;
}
