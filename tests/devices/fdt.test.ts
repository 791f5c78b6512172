import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildDeviceTree } from '../../core/devicetree.js';
import { FdtBuilder, type FdtNode, parseFdt } from '../../core/fdt.js';

const u32s = (b: Uint8Array | undefined): number[] => {
  if (b === undefined) throw new Error('missing property');
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return Array.from({ length: b.length / 4 }, (_, i) => v.getUint32(i * 4));
};
const strs = (b: Uint8Array | undefined): string[] => {
  if (b === undefined) throw new Error('missing property');
  return new TextDecoder().decode(b).split('\0').slice(0, -1);
};

function find(root: FdtNode, path: string): FdtNode {
  let node = root;
  for (const part of path.split('/').filter((p) => p !== '')) {
    const next = node.children.find((c) => c.name === part);
    if (next === undefined) throw new Error(`no node ${path}`);
    node = next;
  }
  return node;
}

function hasDtc(): boolean {
  try {
    execFileSync('dtc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('FdtBuilder', () => {
  it('round-trips nodes and every kind of property through parseFdt', () => {
    const b = new FdtBuilder();
    b.beginNode('');
    b.prop('cell', 0xdeadbeef);
    b.prop('cells', [1, 2, 0xffffffff]);
    b.prop('str', 'hello');
    b.prop('strs', ['a', 'bc']);
    b.prop('raw', Uint8Array.of(1, 2, 3));
    b.prop('empty', null);
    b.propU64('big', [0x1_0000_0002]);
    b.beginNode('child@10');
    b.prop('cell', 7);
    b.beginNode('grandchild');
    b.endNode();
    b.endNode();
    b.beginNode('second');
    b.endNode();
    b.endNode();
    const blob = b.finish();
    const { root, version, lastCompVersion } = parseFdt(blob);
    expect([version, lastCompVersion]).toEqual([17, 16]);
    expect(root.name).toBe('');
    expect(u32s(root.props.get('cell'))).toEqual([0xdeadbeef]);
    expect(u32s(root.props.get('cells'))).toEqual([1, 2, 0xffffffff]);
    expect(strs(root.props.get('str'))).toEqual(['hello']);
    expect(strs(root.props.get('strs'))).toEqual(['a', 'bc']);
    expect(root.props.get('raw')).toEqual(Uint8Array.of(1, 2, 3));
    expect(root.props.get('empty')).toEqual(new Uint8Array(0));
    expect(u32s(root.props.get('big'))).toEqual([1, 2]);
    expect(root.children.map((c) => c.name)).toEqual(['child@10', 'second']);
    expect(u32s(find(root, 'child@10').props.get('cell'))).toEqual([7]);
    expect(find(root, 'child@10/grandchild').props.size).toBe(0);
  });

  it('writes a big-endian header, an empty reservation map and a deduplicated strings block', () => {
    const b = new FdtBuilder();
    b.beginNode('');
    b.prop('reg', 1);
    b.beginNode('x');
    b.prop('reg', 2);
    b.endNode();
    b.endNode();
    const blob = b.finish();
    const v = new DataView(blob.buffer);
    expect(v.getUint32(0)).toBe(0xd00dfeed);
    expect(v.getUint32(4)).toBe(blob.length);
    const rsv = v.getUint32(16);
    expect(rsv % 8).toBe(0);
    expect([...blob.subarray(rsv, rsv + 16)].every((x) => x === 0)).toBe(true);
    const stringsOff = v.getUint32(12);
    expect(v.getUint32(32)).toBe(4); // "reg\0" once
    expect(new TextDecoder().decode(blob.subarray(stringsOff, stringsOff + 4))).toBe('reg\0');
    expect(v.getUint32(8) % 4).toBe(0);
  });

  it('refuses to finish with a node open or to close a node never opened', () => {
    const b = new FdtBuilder();
    b.beginNode('');
    expect(() => b.finish()).toThrow(/open/);
    expect(() => new FdtBuilder().endNode()).toThrow();
  });

  it('parseFdt rejects a blob with a bad magic or a wrong size', () => {
    const b = new FdtBuilder();
    b.beginNode('');
    b.endNode();
    const blob = b.finish();
    expect(() => parseFdt(blob.subarray(0, blob.length - 4))).toThrow(/totalsize/);
    const bad = blob.slice();
    bad[0] = 0;
    expect(() => parseFdt(bad)).toThrow(/magic/);
  });
});

describe('buildDeviceTree', () => {
  const config = {
    ramBase: 0x8000_0000,
    ramSize: 64 << 20,
    hasDisk: true,
    bootargs: 'console=ttyS0',
    initrd: { start: 0x8400_0000, end: 0x8410_0000 },
  };
  const root = parseFdt(buildDeviceTree(config)).root;
  const phandle = (path: string) => u32s(find(root, path).props.get('phandle'))[0];

  it('describes the board like QEMU virt', () => {
    expect(u32s(root.props.get('#address-cells'))).toEqual([2]);
    expect(u32s(root.props.get('#size-cells'))).toEqual([2]);
    expect(strs(root.props.get('compatible'))).toEqual(['riscv-virtio']);
    expect(root.props.has('model')).toBe(true);
  });

  it('fills /chosen', () => {
    const chosen = find(root, 'chosen');
    expect(strs(chosen.props.get('stdout-path'))).toEqual(['/soc/serial@10000000']);
    expect(strs(chosen.props.get('bootargs'))).toEqual(['console=ttyS0']);
    expect(u32s(chosen.props.get('linux,initrd-start'))).toEqual([0, 0x8400_0000]);
    expect(u32s(chosen.props.get('linux,initrd-end'))).toEqual([0, 0x8410_0000]);
  });

  it('leaves bootargs, initrd and the virtio node out when not configured', () => {
    const bare = parseFdt(buildDeviceTree({ ramBase: 0x8000_0000, ramSize: 1 << 20, hasDisk: false })).root;
    expect([...find(bare, 'chosen').props.keys()]).toEqual(['stdout-path']);
    expect(find(bare, 'soc').children.some((c) => c.name.startsWith('virtio_mmio'))).toBe(false);
  });

  it('describes hart 0 and its interrupt controller', () => {
    expect(u32s(find(root, 'cpus').props.get('timebase-frequency'))).toEqual([10_000_000]);
    const cpu = find(root, 'cpus/cpu@0');
    expect(strs(cpu.props.get('device_type'))).toEqual(['cpu']);
    expect(u32s(cpu.props.get('reg'))).toEqual([0]);
    expect(strs(cpu.props.get('status'))).toEqual(['okay']);
    expect(strs(cpu.props.get('riscv,isa'))).toEqual(['rv32imac_zicsr_zifencei']);
    expect(strs(cpu.props.get('mmu-type'))).toEqual(['riscv,sv32']);
    const intc = find(root, 'cpus/cpu@0/interrupt-controller');
    expect(strs(intc.props.get('compatible'))).toEqual(['riscv,cpu-intc']);
    expect(u32s(intc.props.get('#interrupt-cells'))).toEqual([1]);
    expect(intc.props.get('interrupt-controller')?.length).toBe(0);
  });

  it('describes memory', () => {
    const mem = find(root, 'memory@80000000');
    expect(strs(mem.props.get('device_type'))).toEqual(['memory']);
    expect(u32s(mem.props.get('reg'))).toEqual([0, 0x8000_0000, 0, 64 << 20]);
  });

  it('wires the SoC devices to the right interrupts', () => {
    const intc = phandle('cpus/cpu@0/interrupt-controller');
    const plic = phandle('soc/plic@c000000');
    const soc = find(root, 'soc');
    expect(strs(soc.props.get('compatible'))).toEqual(['simple-bus']);
    expect(soc.props.get('ranges')?.length).toBe(0);
    expect(soc.children.map((c) => c.name).sort()).toEqual(
      ['clint@2000000', 'plic@c000000', 'serial@10000000', 'test@100000', 'virtio_mmio@10001000'].sort(),
    );
    const clint = find(root, 'soc/clint@2000000');
    expect(u32s(clint.props.get('interrupts-extended'))).toEqual([intc, 3, intc, 7]);
    expect(strs(clint.props.get('compatible'))).toEqual(['sifive,clint0', 'riscv,clint0']);
    const p = find(root, 'soc/plic@c000000');
    expect(u32s(p.props.get('interrupts-extended'))).toEqual([intc, 11, intc, 9]);
    expect(u32s(p.props.get('riscv,ndev'))).toEqual([95]);
    expect(u32s(p.props.get('reg'))).toEqual([0, 0x0c00_0000, 0, 0x60_0000]);
    const uart = find(root, 'soc/serial@10000000');
    expect(strs(uart.props.get('compatible'))).toEqual(['ns16550a']);
    expect(u32s(uart.props.get('interrupts'))).toEqual([10]);
    expect(u32s(uart.props.get('interrupt-parent'))).toEqual([plic]);
    expect(u32s(uart.props.get('clock-frequency'))).toEqual([0x384000]);
    const virtio = find(root, 'soc/virtio_mmio@10001000');
    expect(u32s(virtio.props.get('interrupts'))).toEqual([1]);
    expect(u32s(virtio.props.get('interrupt-parent'))).toEqual([plic]);
    expect(u32s(virtio.props.get('reg'))).toEqual([0, 0x1000_1000, 0, 0x1000]);
  });

  it('points poweroff and reboot at the test device', () => {
    const test = find(root, 'soc/test@100000');
    expect(strs(test.props.get('compatible'))).toEqual(['sifive,test1', 'sifive,test0', 'syscon']);
    const ph = phandle('soc/test@100000');
    for (const [node, value] of [
      ['poweroff', 0x5555],
      ['reboot', 0x7777],
    ] as const) {
      const n = find(root, node);
      expect(strs(n.props.get('compatible'))).toEqual([`syscon-${node}`]);
      expect(u32s(n.props.get('value'))).toEqual([value]);
      expect(u32s(n.props.get('offset'))).toEqual([0]);
      expect(u32s(n.props.get('regmap'))).toEqual([ph]);
    }
  });

  it('uses distinct phandles', () => {
    const all = ['cpus/cpu@0/interrupt-controller', 'soc/plic@c000000', 'soc/test@100000'].map(phandle);
    expect(new Set(all).size).toBe(3);
  });

  it.skipIf(!hasDtc())('decompiles with dtc without warnings', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rewind-dtb-'));
    const file = join(dir, 'virt.dtb');
    writeFileSync(file, buildDeviceTree(config));
    const run = spawnSync('dtc', ['-I', 'dtb', '-O', 'dts', file], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('compatible = "ns16550a";');
  });
});
