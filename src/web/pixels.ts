/**
 * Where a pixel of the screen lives in guest memory: the scanout shows a
 * rectangle of a resource, whose backing is a list of guest-physical
 * (address, length) pieces; the pixel's four bytes are at its offset in
 * them. Read from the GPU's saved state (what it keeps of each resource),
 * so the device needs no door of its own for this.
 */
import type { Machine } from '../../core/machine.js';

interface SavedGpu {
  scanout: { x: number; y: number; width: number; height: number; resource: number } | null;
  resources: { id: number; width: number; backing: number[] | null }[];
}

/** The guest-physical address of the screen's pixel (x, y), or null (no screen, no backing, outside it). */
export function pixelAddress(machine: Machine, x: number, y: number): number | null {
  const gpu = machine.gpu;
  if (!gpu) return null;
  const { scanout, resources } = gpu.saveState() as unknown as SavedGpu;
  if (!scanout || x < 0 || y < 0 || x >= scanout.width || y >= scanout.height) return null;
  const res = resources.find((r) => r.id === scanout.resource);
  if (!res?.backing) return null;
  let offset = ((scanout.y + y) * res.width + scanout.x + x) * 4;
  for (let i = 0; i < res.backing.length; i += 2) {
    const [address, length] = [res.backing[i]!, res.backing[i + 1]!];
    if (offset < length) return (address + offset) >>> 0;
    offset -= length;
  }
  return null;
}
