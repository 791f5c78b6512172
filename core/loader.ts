/**
 * Program loading: ELF32 RISC-V executables (validated before anything is
 * written) and raw images placed at the start of RAM.
 */
import { RewindError } from './errors.js';

/** A piece of the initial RAM image. */
export interface Segment {
  addr: number;
  bytes: Uint8Array;
  /** Bytes to zero after `bytes` (.bss). */
  zero: number;
}

export interface Program {
  entry: number;
  segments: Segment[];
  /** ELF symbols (name → address) a debugger shows (see readSymbols); empty for raw images. */
  symbols: Map<string, number>;
}

const ET_EXEC = 2;
const EM_RISCV = 243;
const PT_LOAD = 1;
const SHT_SYMTAB = 2;
const STT_SECTION = 3;
const STT_FILE = 4;

const bad = (message: string): never => {
  throw new RewindError('bad-elf', message);
};

/** Whether bytes start with the ELF magic. */
export function isElf(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
}

/**
 * Parses an ELF32 little-endian RISC-V executable and checks that every
 * loadable segment lies inside RAM [ramBase, ramBase + ramSize).
 */
export function parseElf(bytes: Uint8Array, ramBase: number, ramSize: number): Program {
  if (!isElf(bytes)) bad('not an ELF file (bad magic)');
  if (bytes.length < 52) bad('truncated ELF header');
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes[4] !== 1) bad(`not a 32-bit ELF (class ${bytes[4]}); Rewind runs RV32 programs`);
  if (bytes[5] !== 1) bad('not a little-endian ELF');
  const machine = v.getUint16(18, true);
  if (machine !== EM_RISCV) bad(`not a RISC-V ELF (machine ${machine})`);
  const type = v.getUint16(16, true);
  if (type !== ET_EXEC) bad(`not an executable ELF (type ${type}); link a static executable`);
  const entry = v.getUint32(24, true);
  const phoff = v.getUint32(28, true);
  const phentsize = v.getUint16(42, true);
  const phnum = v.getUint16(44, true);
  if (phnum === 0) bad('ELF has no program headers');
  if (phentsize < 32 || phoff + phnum * phentsize > bytes.length) bad('truncated ELF program headers');
  const segments: Segment[] = [];
  const ramEnd = ramBase + ramSize;
  for (let i = 0; i < phnum; i++) {
    const h = phoff + i * phentsize;
    if (v.getUint32(h, true) !== PT_LOAD) continue;
    const offset = v.getUint32(h + 4, true);
    const paddr = v.getUint32(h + 12, true);
    const filesz = v.getUint32(h + 16, true);
    const memsz = v.getUint32(h + 20, true);
    if (memsz === 0) continue;
    if (filesz > memsz) bad(`segment ${i}: file size larger than memory size`);
    if (offset + filesz > bytes.length)
      bad(`segment ${i}: truncated (needs bytes up to ${offset + filesz}, file has ${bytes.length})`);
    if (paddr < ramBase || paddr + memsz > ramEnd) {
      bad(
        `segment ${i} at 0x${hex(paddr)}..0x${hex(paddr + memsz)} lies outside RAM 0x${hex(ramBase)}..0x${hex(ramEnd)}`,
      );
    }
    segments.push({ addr: paddr, bytes: bytes.slice(offset, offset + filesz), zero: memsz - filesz });
  }
  if (segments.length === 0) bad('ELF has no loadable segments');
  return { entry, segments, symbols: readSymbols(bytes, v) };
}

/** A raw binary image placed at the start of RAM, entered at its first byte. */
export function rawImage(bytes: Uint8Array, ramBase: number, ramSize: number): Program {
  if (bytes.length === 0) throw new RewindError('bad-image', 'the image is empty');
  if (bytes.length > ramSize)
    throw new RewindError('bad-image', `the image (${bytes.length} bytes) does not fit in RAM (${ramSize} bytes)`);
  return { entry: ramBase, segments: [{ addr: ramBase, bytes, zero: 0 }], symbols: new Map() };
}

/**
 * Symbols of the .symtab section, best effort: a damaged table yields fewer
 * symbols, never an error. Only names a person wrote are kept: no section or
 * file symbols, no compiler-made local labels (.L…) and no ELF mapping
 * symbols ($x, $d, $xrv32i2p1_m2p0…, RISC-V ELF psABI "Mapping Symbol"),
 * which would otherwise show as functions.
 */
function readSymbols(bytes: Uint8Array, v: DataView): Map<string, number> {
  const symbols = new Map<string, number>();
  const shoff = v.getUint32(32, true);
  const shentsize = v.getUint16(46, true);
  const shnum = v.getUint16(48, true);
  if (shoff === 0 || shentsize < 40 || shoff + shnum * shentsize > bytes.length) return symbols;
  const decoder = new TextDecoder();
  for (let i = 0; i < shnum; i++) {
    const sh = shoff + i * shentsize;
    if (v.getUint32(sh + 4, true) !== SHT_SYMTAB) continue;
    const off = v.getUint32(sh + 16, true);
    const size = v.getUint32(sh + 20, true);
    const link = v.getUint32(sh + 24, true);
    if (link >= shnum || off + size > bytes.length) continue;
    const strSh = shoff + link * shentsize;
    const strOff = v.getUint32(strSh + 16, true);
    const strSize = v.getUint32(strSh + 20, true);
    if (strOff + strSize > bytes.length) continue;
    for (let s = off; s + 16 <= off + size; s += 16) {
      const nameOff = v.getUint32(s, true);
      const type = bytes[s + 12]! & 0xf;
      if (nameOff === 0 || nameOff >= strSize || type === STT_SECTION || type === STT_FILE) continue;
      let end = strOff + nameOff;
      while (end < strOff + strSize && bytes[end] !== 0) end++;
      const name = decoder.decode(bytes.subarray(strOff + nameOff, end));
      if (name && !name.startsWith('.L') && !name.startsWith('$')) symbols.set(name, v.getUint32(s + 4, true));
    }
  }
  return symbols;
}

const hex = (n: number): string => n.toString(16).padStart(8, '0');
