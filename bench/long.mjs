// Recordings of any length (issue #13), through the CLI as a user runs it (after npm run build:cli).
// Usage: node bench/long.mjs [--quick]
// 1. record ÷ run on every bundled benchmark: guests/bench and the suite (guests/suite/), each
//    for LONG_SCALE instructions (default 3·10^8), best of LONG_RUNS (default 2) of each; the
//    record run's peak RSS and file size. Then the memory-heavy ones (dirty, stream, alloc) for
//    LONG_HEAVY_SCALE instructions (default 3·10^9; 0 leaves them out).
// 2. Long recordings of the page-dirtying guest (suite `dirty`: random words over 48 MiB, every
//    checkpoint all of it), of `stream` (32 MiB rewritten front to back, fast) and of `mix` (a bit
//    of everything, as most programs are), or of the
//    suite's guests in LONG_GUESTS: LONG_INSTRUCTIONS each (default 10^10) under LONG_BUDGET
//    (default the CLI's 2G): time, peak RSS, file size; `rewind info` on it (time); seeks to
//    LONG_SEEKS random positions (default 20), and as many within the last 10^9, each in a fresh
//    process (p50, p99), with `state --at`; and the same seeks in one process that opened the file
//    once (what scrubbing in the app or gdb waits for: the seek alone, each from wherever the one
//    before left the machine), and to the step before each checkpoint of the last 10^9 and to the end (the seeks there
//    that replay the most); then `replay --verify` of it.
// --quick: 10^8 per benchmark, a 10^9 recording, 8 seeks (a smoke run, not figures).
// LONG_WORKLOADS=dirty,bytecode runs only those benchmarks in 1; LONG_INSTRUCTIONS=0 leaves out 2.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SUITE, fmt, guestPath, root, stats, suiteInput } from './common.mjs';

const self = fileURLToPath(import.meta.url);
if (process.argv[2] === '--seeks') await seeksInOneProcess(process.argv[3], JSON.parse(process.argv[4]));

/**
 * Child: opens the recording once and times a seek to each target, in order; prints JSON. A list
 * given as `{ endsAfter: N }` is the step before each checkpoint past N, from the last back, and the end: the
 * seeks that replay the most there, each from a restore.
 */
async function seeksInOneProcess(path, lists) {
  const { openVmi } = await import(`${root}dist/src/node/vmi-file.js`);
  let t = performance.now();
  const session = openVmi(path);
  const open = (performance.now() - t) / 1000;
  const checkpoints = session.timeline.branch(session.branch).checkpoints.map((c) => c.position);
  // The recording's end too, where it has no checkpoint (a busy guest's that ended near one).
  const end = session.branchEnd();
  const gapEnds = (after) =>
    checkpoints
      .filter((p) => p > after && p > 0)
      .sort((a, b) => b - a)
      .map((p) => p - 1)
      .concat(checkpoints.includes(end) ? [] : [end]);
  const times = lists.map((list) =>
    (Array.isArray(list) ? list : gapEnds(list.endsAfter)).map((position) => {
      t = performance.now();
      session.seek({ position });
      return (performance.now() - t) / 1000;
    }),
  );
  console.log(JSON.stringify({ open, times }));
  process.exit(0);
}

const quick = process.argv.includes('--quick');
const SCALE = Number(process.env.LONG_SCALE ?? (quick ? 1e8 : 3e8));
const RUNS = Number(process.env.LONG_RUNS ?? (quick ? 1 : 2));
const HEAVY_SCALE = Number(process.env.LONG_HEAVY_SCALE ?? (quick ? 0 : 3e9));
const LONG = Number(process.env.LONG_INSTRUCTIONS ?? (quick ? 1e9 : 1e10));
const BUDGET = process.env.LONG_BUDGET ?? '2G';
const SEEKS = Number(process.env.LONG_SEEKS ?? (quick ? 8 : 20));
const dir = mkdtempSync(join(tmpdir(), 'rewind-bench-long-'));

// Runs the CLI in a fresh process and reports its wall time, its time after Node started (from the
// first line of this wrapper: the CLI's modules and work) and peak RSS (the process's own, from Node).
const WRAP = `const t = performance.now();
const { main } = await import(${JSON.stringify(`${root}dist/cli/rewind.js`)});
const code = await main(process.argv.slice(1));
process.stderr.write('\\n@rss ' + process.resourceUsage().maxRSS + ' @ms ' + (performance.now() - t) + '\\n');
process.exitCode = code;`;

function rewind(args, input) {
  const inputFile = join(dir, 'input');
  if (input !== undefined) writeFileSync(inputFile, input);
  const t = performance.now();
  const withInput = input === undefined ? args : [...args, '--input-file', inputFile];
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', WRAP, ...withInput], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  const seconds = (performance.now() - t) / 1000;
  const rss = Number(/@rss (\d+)/.exec(r.stderr)?.[1] ?? 0) * 1024;
  const inside = Number(/@ms ([\d.]+)/.exec(r.stderr)?.[1] ?? NaN) / 1000;
  if (![0, 124, 125].includes(r.status)) throw new Error(`rewind ${args.join(' ')}: ${r.stderr}`);
  return { seconds, inside, rss, stdout: r.stdout, stderr: r.stderr.replace(/\n@rss .*\n$/, '') };
}

const MiB = (n) => `${fmt(n / 2 ** 20, 0)} MiB`;

/** Prints record ÷ run of each of `workloads` ([name, input line]) at `scale` instructions. */
function ratios(scale, workloads) {
  console.log(
    `record ÷ run at ${scale.toExponential(0)} instructions, best of ${RUNS} (fresh processes, start-up included)`,
  );
  console.log('workload   run s  record s  ratio  peak RSS  file');
  for (const [name, input] of workloads) {
    const max = ['--max-instructions', String(scale)];
    const out = join(dir, `${name}.vmi`);
    let run = Infinity;
    let rec = { seconds: Infinity, rss: 0 };
    for (let i = 0; i < RUNS; i++) {
      run = Math.min(run, rewind(['run', guestPath(name), ...max], input).seconds);
      const r = rewind(['record', guestPath(name), ...max, '-o', out], input);
      if (r.seconds < rec.seconds) rec = r;
      // Each run writes a new file: the next would otherwise replace this one, and the file system's
      // freeing of a replaced file's blocks (0.1 s for a few hundred MiB) is not the recording's cost.
      if (i < RUNS - 1) rmSync(out);
    }
    console.log(
      `${name.padEnd(9)} ${fmt(run, 2).padStart(6)} ${fmt(rec.seconds, 2).padStart(9)} ${fmt(rec.seconds / run, 2).padStart(6)} ${MiB(rec.rss).padStart(9)} ${MiB(statSync(out).size).padStart(8)}`,
    );
    rmSync(out);
  }
}

const only = process.env.LONG_WORKLOADS?.split(',');
const chosen = (names) => names.filter((name) => !only || only.includes(name));
ratios(
  SCALE,
  chosen(['bench', ...SUITE.map(([name]) => name)]).map((name) => [
    name,
    name === 'bench' ? '' : suiteInput(name, SCALE),
  ]),
);
// The memory-heavy ones again over a longer run, where their checkpoints rather than the start and the end dominate.
const heavy = chosen(['dirty', 'stream', 'alloc']);
if (HEAVY_SCALE > 0 && heavy.length > 0) {
  console.log();
  ratios(
    HEAVY_SCALE,
    heavy.map((name) => [name, suiteInput(name, HEAVY_SCALE)]),
  );
}

if (LONG === 0) {
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}

let seed = 12345;
const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const targets = (from, to, n) => Array.from({ length: n }, () => Math.floor(from + random() * (to - from)));
const show = (what, s) => `  ${what.padEnd(18)} p50 ${fmt(s.median * 1000, 0)} ms, p99 ${fmt(s.p99 * 1000, 0)} ms`;

/** Records `name` for LONG instructions under the budget, then times info and seeks on the file. */
function longRecording(name) {
  console.log(`\nlong recording: ${name}, ${LONG.toExponential(0)} instructions, budget ${BUDGET}`);
  const long = join(dir, `long-${name}.vmi`);
  const rec = rewind(
    ['record', guestPath(name), '--max-instructions', String(LONG), '--budget', BUDGET, '-o', long],
    suiteInput(name, LONG * 2),
  );
  const size = statSync(long).size;
  console.log(
    `record: ${fmt(rec.seconds, 1)} s (${fmt(LONG / rec.seconds / 1e6, 0)} MIPS), peak RSS ${MiB(rec.rss)}, file ${MiB(size)}`,
  );
  const info = [0, 1, 2, 3, 4].map(() => rewind(['info', long]));
  console.log(
    `info: ${fmt(stats(info.map((r) => r.seconds)).median * 1000, 0)} ms median of 5 (process start-up included), ` +
      `${fmt(stats(info.map((r) => r.inside)).median * 1000, 0)} ms after Node started`,
  );
  console.log(rewind(['info', long]).stdout.trimEnd());
  const anywhere = targets(0, LONG, SEEKS);
  const recent = targets(Math.max(0, LONG - 1e9), LONG, SEEKS);
  const fresh = (ats) => stats(ats.map((at) => rewind(['state', long, '--at', String(at)]).seconds));
  const base = stats([0, 1, 2].map(() => rewind(['state', long, '--at', '0']).seconds)).median;
  console.log(`seek, a fresh process each (opening the file and a seek to 0 take ${fmt(base * 1000, 0)} ms):`);
  console.log(show('anywhere:', fresh(anywhere)));
  console.log(show('within last 10^9:', fresh(recent)));
  const inOne = JSON.parse(
    spawnSync(
      process.execPath,
      [self, '--seeks', long, JSON.stringify([anywhere, recent, { endsAfter: LONG - 1e9 }])],
      { encoding: 'utf8' },
    ).stdout,
  );
  console.log(`seek in one process (the file opened once, in ${fmt(inOne.open * 1000, 0)} ms):`);
  console.log(show('anywhere:', stats(inOne.times[0])));
  console.log(show('within last 10^9:', stats(inOne.times[1])));
  // The targets above are drawn at random (from a fixed seed): these are the worst of the last 10^9.
  const ends = stats(inOne.times[2]);
  console.log(
    `  ${'the step before each checkpoint of the last 10^9, and the end:'} p50 ${fmt(ends.median * 1000, 0)} ms, max ${fmt(ends.max * 1000, 0)} ms`,
  );
  // Every checkpoint the thinning kept, checked against a replay from the start (a failure stops the bench, naming it).
  const verified = rewind(['replay', '--verify', long]);
  console.log(`replay --verify: ${fmt(verified.seconds, 1)} s, ${verified.stderr.trim().replace(/^rewind: /, '')}`);
  rmSync(long);
}

for (const name of (process.env.LONG_GUESTS ?? 'dirty,stream,mix').split(',')) longRecording(name);
rmSync(dir, { recursive: true, force: true });
