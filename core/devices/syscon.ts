import type { AccessSize, Device, DeviceEntry, DeviceState } from '../device.js';
import type { FdtBuilder } from '../fdt.js';
import type { Phandles } from '../devicetree.js';
import { StateReader } from './state.js';

/** What the guest asked of the test device. */
export type PowerEvent = { kind: 'pass' } | { kind: 'fail'; code: number } | { kind: 'reset' };

const FINISHER_FAIL = 0x3333;
const FINISHER_PASS = 0x5555;
const FINISHER_RESET = 0x7777;
const STATE_VERSION = 1;

/**
 * QEMU's `sifive_test` device (name "syscon"): a write at offset 0
 * whose low half is 0x5555 powers off with success, 0x3333 fails with the
 * code in the high half, 0x7777 resets. Other values and offsets are ignored;
 * reads return 0. It has no state of its own.
 */
export class Syscon implements Device {
  readonly name = 'syscon';

  constructor(private readonly onPower: (event: PowerEvent) => void) {}

  read(_offset: number, _size: AccessSize): number {
    return 0;
  }

  write(offset: number, value: number, _size: AccessSize): void {
    if (offset !== 0) return;
    const code = value >>> 16;
    switch (value & 0xffff) {
      case FINISHER_PASS:
        this.onPower({ kind: 'pass' });
        break;
      case FINISHER_FAIL:
        this.onPower({ kind: 'fail', code });
        break;
      case FINISHER_RESET:
        this.onPower({ kind: 'reset' });
        break;
    }
  }

  saveState(): DeviceState {
    return { version: STATE_VERSION };
  }

  loadState(state: DeviceState): void {
    new StateReader(this.name, state, STATE_VERSION);
  }

  /** The test device's node in /soc; it carries a phandle for the poweroff and reboot nodes. */
  static fdtNode(b: FdtBuilder, base: number, size: number, phandles: Phandles): void {
    b.beginNode(`test@${base.toString(16)}`);
    b.prop('phandle', phandles.syscon);
    b.prop('reg', [0, base, 0, size]);
    b.prop('compatible', ['sifive,test1', 'sifive,test0', 'syscon']);
    b.endNode();
  }

  /** The root-level `poweroff` and `reboot` nodes (syscon-poweroff / syscon-reboot bindings), as on QEMU virt. */
  static fdtPowerNodes(b: FdtBuilder, phandles: Phandles): void {
    for (const [node, value] of [
      ['poweroff', FINISHER_PASS],
      ['reboot', FINISHER_RESET],
    ] as const) {
      b.beginNode(node);
      b.prop('value', value);
      b.prop('offset', 0);
      b.prop('regmap', phandles.syscon);
      b.prop('compatible', `syscon-${node}`);
      b.endNode();
    }
  }
}

/** The test device at QEMU virt's address; its poweroff and reboot nodes sit at the root. */
export const SYSCON_DEVICE: DeviceEntry<Syscon> = {
  name: 'syscon',
  base: 0x0010_0000,
  size: 0x1000,
  create: (host) => new Syscon((event) => host.power(event)),
  fdtNode: (b, self, tree) => Syscon.fdtNode(b, self.base, self.size, tree.phandles),
  fdtRootNodes: (b, _self, tree) => Syscon.fdtPowerNodes(b, tree.phandles),
};
