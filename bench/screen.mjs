// Screen figures (#16): record ÷ run for the graphical guest playing a long
// game by keyboard, the checkpoint state a screen adds, and what presenting a
// full 1280×800 frame (TRANSFER_TO_HOST_2D) costs on the host.
import { fmt, guestBytes, load } from './common.mjs';

const { Session } = await load('session/session.js');
const { VirtioGpu } = await load('core/virtio/gpu.js');
const { Chain } = await load('core/virtio/mmio.js');
const { PagedMemory } = await load('core/paged.js');

// 1. minefield played with the keyboard: cursor moves (a frame each), a new game every 50.
const { EV_KEY, EV_SYN } = await load('core/virtio/input.js');
const moves = 4000;
const KEYS = [106, 108, 105, 103]; // right, down, left, up
const spec = { kind: 'elf', image: guestBytes('minefield'), ramSize: 64 << 20, screen: true };
const SYN = { type: EV_SYN, code: 0, value: 0 };

function play(record) {
  const s = Session.create(spec, { record });
  const t = performance.now();
  for (let i = 0; i <= moves; i++) {
    while (s.run(10_000_000).reason === 'limit');
    const code = i === moves ? 16 : i % 50 === 49 ? 49 : KEYS[i % 4];
    s.sendInput('keyboard', [{ type: EV_KEY, code, value: 1 }, SYN]);
    s.sendInput('keyboard', [{ type: EV_KEY, code, value: 0 }, SYN]);
  }
  while (s.run(10_000_000).reason === 'limit');
  if (record) s.checkpointHere();
  return { seconds: (performance.now() - t) / 1000, session: s };
}
const plain = Math.min(play(false).seconds, play(false).seconds);
const recs = [play(true), play(true)];
const rec = Math.min(...recs.map((r) => r.seconds));
const s = recs[0].session;
console.log(
  `minefield, ${moves} frames by keyboard, ${fmt(s.position / 1e6)} M instructions: run ${fmt(plain, 2)} s, record ${fmt(rec, 2)} s, ratio ${fmt(rec / plain, 3)} (target ≤ 1.10)`,
);
const states = [...s.checkpoints.all()].map((c) => c.state.length);
console.log(
  `  ${states.length} checkpoints, state ${fmt(Math.max(...states) / 1024)} KiB each at most (the 240×264 screen is ${fmt((240 * 264 * 4) / 1024)} KiB of it)`,
);

// 2. Presenting a full 1280×800 frame: TRANSFER_TO_HOST_2D from a backing of 1000 4 KiB pages, as Linux's scatter lists are.
const ram = new PagedMemory(8 << 20);
const base = 0x80000000;
const dma = {
  readBytes: (addr, dest) => (dest.set(ram.bytes.subarray(addr - base, addr - base + dest.length)), true),
  writeBytes: (addr, src) => (ram.write(addr - base, src), true),
};
const gpu = new VirtioGpu(dma);
const REQ = base + (6 << 20);
const RESP = REQ + 0x10000;
function command(words, extra = new Uint8Array(0)) {
  const req = new Uint8Array(24 + 4 * words.length + extra.length);
  const v = new DataView(req.buffer);
  v.setUint32(0, words[0], true);
  words.slice(1).forEach((w, i) => v.setUint32(24 + 4 * i, w, true));
  req.set(extra, 24 + 4 * (words.length - 1));
  ram.write(REQ - base, req);
  const chain = new Chain(dma, [{ addr: REQ, len: req.length }], [{ addr: RESP, len: 24 }]);
  gpu.process(0, chain);
  return new DataView(ram.bytes.buffer).getUint32(RESP - base, true);
}
const W = 1280;
const H = 800;
const pages = (W * H * 4) / 4096;
const entries = new Uint8Array(pages * 16);
const ev = new DataView(entries.buffer);
for (let i = 0; i < pages; i++) {
  ev.setUint32(16 * i, base + i * 4096, true);
  ev.setUint32(16 * i + 8, 4096, true);
}
if (command([0x0101, 1, 2, W, H]) !== 0x1100) throw new Error('create failed');
if (command([0x0106, 1, pages], entries) !== 0x1100) throw new Error('attach failed');
const frames = 200;
const t = performance.now();
for (let i = 0; i < frames; i++) command([0x0105, 0, 0, W, H, 0, 0, 1, 0]);
const perFrame = (performance.now() - t) / frames;
console.log(
  `full-screen frame (1280×800, ${pages} backing pages): ${fmt(perFrame, 2)} ms on the host; at 60 frames/s ${fmt((perFrame * 60) / 10, 1)} % of a second`,
);
const t2 = performance.now();
for (let i = 0; i < 50; i++) gpu.saveState();
console.log(`saving the GPU's state with that screen: ${fmt((performance.now() - t2) / 50, 2)} ms`);
