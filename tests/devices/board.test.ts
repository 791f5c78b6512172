/** core/board.ts: one table of devices gives the bus, the saved state and the device tree. */
import { describe, expect, it } from 'vitest';
import { DEVICES } from '../../core/board.js';
import { buildDeviceTree } from '../../core/devicetree.js';
import { type FdtNode, parseFdt } from '../../core/fdt.js';
import { rawImage } from '../../core/loader.js';
import { Machine } from '../../core/machine.js';

const RAM = 0x80000000;

function machine(): Machine {
  return new Machine({ program: rawImage(Uint8Array.from([0x73, 0, 0x50, 0x10]), RAM, 4 << 20), ramSize: 4 << 20 });
}

const socNodes = (root: FdtNode): string[] => root.children.find((c) => c.name === 'soc')!.children.map((c) => c.name);

describe('the device table', () => {
  it('gives every device its own range, below RAM, and its own PLIC source', () => {
    const ranges = DEVICES.map((d) => [d.base, d.base + d.size] as const).sort((a, b) => a[0] - b[0]);
    ranges.forEach(([lo, hi], i) => {
      expect(hi).toBeGreaterThan(lo);
      expect(hi).toBeLessThanOrEqual(RAM);
      if (i > 0) expect(lo).toBeGreaterThanOrEqual(ranges[i - 1]![1]);
    });
    const irqs = DEVICES.flatMap((d) => (d.irq === undefined ? [] : [d.irq]));
    expect(new Set(irqs).size).toBe(irqs.length);
    expect(new Set(DEVICES.map((d) => d.name)).size).toBe(DEVICES.length);
  });

  it('names the saved state of each device as its entry does, in the table order', () => {
    const m = machine();
    expect(Object.keys(m.saveState().devices)).toEqual(DEVICES.map((d) => d.name));
    expect(DEVICES.map((d) => d.name)).toEqual([
      'syscon',
      'clint',
      'plic',
      'uart0',
      'virtio0',
      'virtio1',
      'virtio2',
      'virtio3',
      'virtio4',
      'virtio5',
      'virtio6',
      'virtio7',
    ]);
  });

  it('puts each device on the bus at its base', () => {
    // sb 'A' to the UART at 0x10000000, then lw the virtio magic and device ids of slots 0 and 1.
    const words = [
      0x100002b7, // lui t0, 0x10000
      0x04100313, // addi t1, zero, 0x41
      0x00628023, // sb t1, 0(t0)
      0x100013b7, // lui t2, 0x10001
      0x0003a503, // lw a0, 0(t2)
      0x0083a583, // lw a1, 8(t2)
      0x10002e37, // lui t3, 0x10002
      0x008e2603, // lw a2, 8(t3)
      0x10500073, // wfi
    ];
    const code = new Uint8Array(Uint32Array.from(words).buffer);
    const m = new Machine({ program: rawImage(code, RAM, 4 << 20), ramSize: 4 << 20, disk: new Uint8Array(1 << 16) });
    let out = '';
    m.onOutput = (b) => (out += String.fromCharCode(b));
    m.run(100);
    expect(DEVICES.find((d) => d.name === 'uart0')!.base).toBe(0x10000000);
    expect(DEVICES.find((d) => d.name === 'virtio1')!.base).toBe(0x10002000);
    expect(out).toBe('A');
    expect([m.cpu.x[10]! >>> 0, m.cpu.x[11], m.cpu.x[12]]).toEqual([0x74726976, 2, 0]); // "virt", block device, empty slot
  });

  it('emits the nodes of the devices the guest should see, in the table order', () => {
    const config = { ramBase: RAM, ramSize: 4 << 20 };
    const plain = parseFdt(buildDeviceTree({ ...config, hasDisk: false })).root;
    const disk = parseFdt(buildDeviceTree({ ...config, hasDisk: true })).root;
    expect(socNodes(plain)).toEqual(['test@100000', 'clint@2000000', 'plic@c000000', 'serial@10000000']);
    expect(socNodes(disk)).toEqual([...socNodes(plain), 'virtio_mmio@10001000']);
    expect(disk.children.map((c) => c.name).slice(-2)).toEqual(['poweroff', 'reboot']);
  });

  it('with a screen, puts the GPU, the keyboard and the tablet in slots 1 to 3; without, the tree is unchanged', () => {
    const config = { ramBase: RAM, ramSize: 4 << 20, hasDisk: true };
    const plain = buildDeviceTree(config);
    expect(buildDeviceTree({ ...config, hasScreen: false })).toEqual(plain);
    const screen = parseFdt(buildDeviceTree({ ...config, hasScreen: true })).root;
    expect(socNodes(screen).slice(-4)).toEqual([
      'virtio_mmio@10001000',
      'virtio_mmio@10002000',
      'virtio_mmio@10003000',
      'virtio_mmio@10004000',
    ]);
    const m = new Machine({
      program: rawImage(Uint8Array.from([0x73, 0, 0x50, 0x10]), RAM, 4 << 20),
      ramSize: 4 << 20,
      screen: true,
    });
    expect(m.virtio.map((v) => v.read(8, 4))).toEqual([0, 16, 18, 18, 0, 0, 0, 0]);
    expect([m.gpu !== null, m.keyboard?.profile.kind, m.tablet?.profile.kind]).toEqual([true, 'keyboard', 'tablet']);
    expect(machine().gpu).toBeNull();
  });
});
