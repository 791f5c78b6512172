// Time-travel figures: recording overhead, seek and step-back latency over a
// recording of about a billion instructions, checkpoint bytes per MiB
// dirtied, .vmi size per guest, and peak memory while recording.
import { readFileSync } from 'node:fs';
import { fmt, guestBytes, load, root, stats } from './common.mjs';

const { Machine } = await load('core/machine.js');
const { parseElf } = await load('core/loader.js');
const { Session } = await load('session/session.js');
const { writeVmi } = await load('storage/index.js');

const spec = (name, ramSize = 64 << 20) => ({ kind: 'elf', image: guestBytes(name), ramSize });
let peakRss = 0;
const sample = () => (peakRss = Math.max(peakRss, process.memoryUsage().rss));

function plainRun(name) {
  const m = new Machine({ program: parseElf(guestBytes(name), 0x80000000, 64 << 20) });
  const t = performance.now();
  while (!m.power) m.run(10_000_000);
  return (performance.now() - t) / 1000;
}

function recordRun(name) {
  const s = Session.create(spec(name));
  const t = performance.now();
  while (s.run(10_000_000).reason === 'limit') sample();
  s.checkpointHere();
  return { session: s, seconds: (performance.now() - t) / 1000 };
}

// 1. Recording overhead on the CPU-bound guest.
const plain = Math.min(plainRun('bench'), plainRun('bench'));
const rec = Math.min(recordRun('bench').seconds, recordRun('bench').seconds);
console.log(
  `recording overhead (bench): run ${fmt(plain, 2)} s, record ${fmt(rec, 2)} s, ratio ${fmt(rec / plain, 3)} (target ≤ 1.10)`,
);

// 2. A recording of about a billion instructions; peak memory while recording it.
peakRss = 0;
const long = recordRun('bench-long');
const session = long.session;
const end = session.position;
console.log(
  `recorded bench-long: ${end} instructions in ${fmt(long.seconds, 1)} s, ${[...session.checkpoints.all()].length} checkpoints, peak RSS ${fmt(peakRss / 2 ** 20, 0)} MiB (target ≤ 1024)`,
);

// 3. Seek latency over random positions (deterministic pseudo-random sequence).
let seed = 12345;
const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
const seeks = [];
for (let i = 0; i < 60; i++) {
  const p = Math.floor(rand() * end);
  const t = performance.now();
  session.seek({ position: p });
  seeks.push(performance.now() - t);
}
const s = stats(seeks);
console.log(
  `seek latency over ${seeks.length} random positions: median ${fmt(s.median)} ms, p99 ${fmt(s.p99)} ms (targets 100 / 300)`,
);

// 4. Step-back latency: from random positions, ten steps back each.
const backs = [];
for (let i = 0; i < 10; i++) {
  session.seek({ position: 1000 + Math.floor(rand() * (end - 1000)) });
  for (let k = 0; k < 10; k++) {
    const t = performance.now();
    session.stepBack();
    backs.push(performance.now() - t);
  }
}
const b = stats(backs);
console.log(
  `step back: median ${fmt(b.median)} ms, p99 ${fmt(b.p99)} ms, first after a jump ${fmt(Math.max(...backs))} ms max (target ≤ 20)`,
);

// 5. Checkpoint bytes per MiB dirtied, on a guest that writes memory (bench-long's arrays) and on sv32.
{
  const cps = [...session.checkpoints.all()];
  const pages = cps.reduce((n, c) => n + (c.full ? 0 : c.ram.size), 0);
  const stored = session.checkpoints.pages.storedBytes;
  console.log(
    `checkpoint pages: ${pages} page changes in deltas, ${session.checkpoints.pages.size} distinct pages, ${stored} bytes stored: ${fmt(stored / Math.max(1, (session.checkpoints.pages.size * 4096) / 2 ** 20), 0)} bytes per MiB dirtied`,
  );
}

// 6. .vmi size per guest, recorded with their test input.
const guests = ['hello', 'echo', 'timer', 'sv32', 'irqecho', 'default', 'bench-short', 'bench'];
const sizes = [];
for (const g of guests) {
  const input = readFileSync(`${root}guests/expected/${g}.in`);
  const s = Session.create(spec(g));
  s.type(input);
  while (s.run(10_000_000).reason === 'limit');
  s.checkpointHere();
  sizes.push(`${g} ${writeVmi(s.toRecording()).length}`);
}
console.log(`.vmi bytes per guest: ${sizes.join(', ')}`);

// 7. Input events: appending many one at a time (typing, key presses, network frames) and folding
// the log back (opening a .vmi): both linear in the number of events.
const { Timeline } = await load('storage/timeline.js');
for (const n of [10_000, 40_000]) {
  const t = Timeline.create();
  const id = t.root().id;
  const payload = Uint8Array.of(1);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) t.appendEvents(id, [{ position: i, time: i, device: 'uart0', payload }]);
  const t1 = performance.now();
  Timeline.fromLog(t.log);
  const t2 = performance.now();
  console.log(`${n} input events appended one by one: ${fmt(t1 - t0, 0)} ms; their log folded: ${fmt(t2 - t1, 0)} ms`);
}
