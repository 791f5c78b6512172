// Screen figures (#16): record ÷ run for the graphical guest playing a long
// game by keyboard, the checkpoint state a screen adds, and what presenting a
// full 1280×800 frame (TRANSFER_TO_HOST_2D) costs on the host.
import { fmt, guestBytes, load, threadSeconds } from './common.mjs';

const { Session } = await load('session/session.js');
const { Chain } = await load('core/virtio/mmio.js');

// 1. minefield played with the keyboard: cursor moves (a frame each), a new game every 50.
const { EV_KEY, EV_SYN } = await load('core/virtio/input.js');
const moves = Number(process.env.MOVES ?? 4000);
const KEYS = [106, 108, 105, 103]; // right, down, left, up
const spec = { kind: 'elf', image: guestBytes('minefield'), ramSize: 64 << 20, screen: true };
const SYN = { type: EV_SYN, code: 0, value: 0 };

function play(record) {
  const s = Session.create(spec, { record });
  const t = performance.now();
  const t0 = threadSeconds();
  for (let i = 0; i <= moves; i++) {
    while (s.run(10_000_000).reason === 'limit');
    const code = i === moves ? 16 : i % 50 === 49 ? 49 : KEYS[i % 4];
    s.sendInput('keyboard', [{ type: EV_KEY, code, value: 1 }, SYN]);
    s.sendInput('keyboard', [{ type: EV_KEY, code, value: 0 }, SYN]);
  }
  while (s.run(10_000_000).reason === 'limit');
  if (record) s.checkpointHere();
  return { seconds: (performance.now() - t) / 1000, thread: t0 === null ? null : threadSeconds() - t0, session: s };
}
// Alternated, best of 3 each, by the wall clock and by this thread's CPU time (steadier on a loaded host).
const plains = [];
const recs = [];
for (let i = 0; i < 3; i++) {
  plains.push(play(false));
  recs.push(play(true));
}
const least = (rs, key) => Math.min(...rs.map((r) => r[key]));
const [plain, rec] = [least(plains, 'seconds'), least(recs, 'seconds')];
const s = recs[0].session;
const cpuRatio =
  plains[0].thread === null ? '' : `; by CPU time ${fmt(least(recs, 'thread') / least(plains, 'thread'), 3)}`;
console.log(
  `minefield, ${moves} frames by keyboard, ${fmt(s.position / 1e6)} M instructions: run ${fmt(plain, 2)} s, record ${fmt(rec, 2)} s, ratio ${fmt(rec / plain, 3)}${cpuRatio} (target ≤ 1.10)`,
);
const states = [...s.checkpoints.all()].map((c) => c.state.length).sort((a, b) => a - b);
console.log(
  `  ${states.length} checkpoints, state ${fmt(states[states.length >> 1] / 1024)} KiB median, ${fmt(states[states.length - 1] / 1024)} KiB at most (the 240×264 screen is ${fmt((240 * 264 * 4) / 1024)} KiB of pixels, saved as its difference from the backing)`,
);

// 2. Presenting a full 1280×800 frame: TRANSFER_TO_HOST_2D from a backing of 1000 4 KiB pages, as Linux's scatter
// lists are; then what a checkpoint of a machine with that screen costs.
const { Machine } = await load('core/machine.js');
const { rawImage } = await load('core/loader.js');
const { Checkpointer } = await load('storage/index.js');
const base = 0x80000000;
const machine = new Machine({
  program: rawImage(Uint8Array.from([0x6f, 0, 0, 0]), base, 64 << 20),
  ramSize: 64 << 20,
  screen: true,
});
const ram = machine.ram;
const dma = {
  readBytes: (addr, dest) => (dest.set(ram.bytes.subarray(addr - base, addr - base + dest.length)), true),
  writeBytes: (addr, src) => (ram.write(addr - base, src), true),
};
const gpu = machine.gpu;
const REQ = base + (48 << 20);
const RESP = REQ + 0x10000;
function command(words, extra = new Uint8Array(0)) {
  const req = new Uint8Array(24 + 4 * words.length + extra.length);
  const v = new DataView(req.buffer);
  v.setUint32(0, words[0], true);
  words.slice(1).forEach((w, i) => v.setUint32(24 + 4 * i, w, true));
  req.set(extra, 24 + 4 * (words.length - 1));
  ram.write(REQ - base, req);
  gpu.process(0, new Chain(dma, [{ addr: REQ, len: req.length }], [{ addr: RESP, len: 24 }]));
  return new DataView(ram.bytes.buffer).getUint32(RESP - base, true);
}
const W = 1280;
const H = 800;
const FB = base + (8 << 20);
const pages = (W * H * 4) / 4096;
for (let i = 0; i < W * H * 4; i++) ram.bytes[FB - base + i] = (i * 7) & 0xff;
const entries = new Uint8Array(pages * 16);
const ev = new DataView(entries.buffer);
for (let i = 0; i < pages; i++) {
  ev.setUint32(16 * i, FB + i * 4096, true);
  ev.setUint32(16 * i + 8, 4096, true);
}
if (command([0x0101, 1, 2, W, H]) !== 0x1100) throw new Error('create failed');
if (command([0x0106, 1, pages], entries) !== 0x1100) throw new Error('attach failed');
const frames = 200;
let t = performance.now();
for (let i = 0; i < frames; i++) command([0x0105, 0, 0, W, H, 0, 0, 1, 0]);
const perFrame = (performance.now() - t) / frames;
console.log(
  `full-screen frame (1280×800, ${pages} backing pages): ${fmt(perFrame, 2)} ms on the host; at 60 frames/s ${fmt((perFrame * 60) / 10, 1)} % of a second`,
);
const checkpoints = new Checkpointer(machine);
let parent = checkpoints.capture(null, 'main').id;
const capture = () => {
  const t0 = performance.now();
  for (let i = 0; i < 20; i++) parent = checkpoints.capture(parent, 'main').id;
  return (performance.now() - t0) / 20;
};
const held = capture();
ram.bytes.fill(0, FB - base + 4096, FB - base + 4096 * 300);
const drawn = capture();
ram.bytes.fill(0, FB - base, FB - base + W * H * 4);
const cleared = capture();
console.log(
  `a checkpoint with that screen: ${fmt(held, 2)} ms when the backing holds the pixels, ${fmt(drawn, 2)} ms when 30 % of them differ, ${fmt(cleared, 2)} ms when all do (saved whole)`,
);

// 3. Presenting frames at the display's pace: Linux with a screen running `life` on its framebuffer console
// (a redrawn 40×16 board per generation), run in slices as the web app's worker runs it, with the worker's
// frame presenter looking at the screen after every slice (at most 30 times a second; each changed frame
// converted for the canvas), against the same run with no one looking. Timed from the command to the next
// prompt; alternated, best of 3 each.
const { bootSpec, builtLinux } = await load('src/node/boot.js');
const { ScreenFrames } = await load('src/web/frames.js');
const linux = bootSpec({ ...builtLinux(), screen: true });
const GENERATIONS = Number(process.env.GENERATIONS ?? 400);
function lifeOnScreen(present) {
  const session = Session.create(linux, { record: false });
  let tail = '';
  session.onOutput = (b) => (tail = (tail + String.fromCharCode(b)).slice(-10));
  let looking = 0;
  const toPrompt = (frames) => {
    tail = '';
    while (tail !== 'rewind:/# ') {
      if (session.machine.power) throw new Error('Linux powered off');
      session.run(200_000);
      if (!frames) continue;
      const t0 = performance.now();
      frames.look(session.machine, false);
      looking += performance.now() - t0;
    }
  };
  toPrompt(null);
  let sent = 0;
  const frames = present
    ? new ScreenFrames(
        () => sent++,
        () => performance.now(),
      )
    : null;
  session.type(new TextEncoder().encode(`life ${GENERATIONS} >/dev/tty1\n`));
  const from = session.position;
  const t = performance.now();
  toPrompt(frames);
  const ms = performance.now() - t;
  return { mips: (session.position - from) / (ms * 1000), sent, fps: (sent * 1000) / ms, share: looking / ms };
}
const runs = { plain: [], presented: [] };
for (let i = 0; i < 3; i++) {
  runs.plain.push(lifeOnScreen(false));
  runs.presented.push(lifeOnScreen(true));
}
const best = (rs) => rs.reduce((a, b) => (b.mips > a.mips ? b : a));
const [plainRun, shownRun] = [best(runs.plain), best(runs.presented)];
console.log(
  `Linux --screen, life ${GENERATIONS} on the framebuffer console: ${fmt(plainRun.mips)} MIPS with no one looking, ${fmt(shownRun.mips)} MIPS presenting ${fmt(shownRun.fps)} frames/s: the guest keeps ${fmt((100 * shownRun.mips) / plainRun.mips)} % of its speed (target ≥ 90 %); looking took ${fmt(100 * shownRun.share)} % of the run`,
);
