/** `rewind info`: what a .vmi holds, from its header and index alone (fast on files of any size). */
import { statSync } from 'node:fs';
import { RewindError } from '../../core/errors.js';
import { timelineFromTree } from '../../storage/index.js';
import { readVmiFileSummary } from '../node/vmi-read.js';
import { parseArgs } from './args.js';
import { Exit } from './exit.js';
import { printable, safeJson } from './text.js';
import { INFO_USAGE } from './usage.js';

/** Windows (the last so many instructions of a branch) that info gives the cost of a seek into. */
const WINDOWS = [1e8, 1e9, 1e10, Infinity];

/** 12,000,000 as 12M: instruction counts people read. */
function count(n: number): string {
  for (const [unit, size] of [
    ['G', 1e9],
    ['M', 1e6],
    ['k', 1e3],
  ] as const)
    if (n >= size) return `${Number((n / size).toPrecision(3))}${unit}`;
  return String(n);
}

export async function infoCommand(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, { json: 'boolean' });
  if (args.positional.length !== 1) throw new RewindError('bad-argument', `usage: ${INFO_USAGE}`);
  const path = args.positional[0]!;
  // The index alone, streamed: nothing is replayed and no page is read.
  const rec = readVmiFileSummary(path);
  const timeline = timelineFromTree(rec.timeline);
  const branches = Object.values(rec.timeline.branches);
  const byId = new Map(branches.map((b) => [b.id, b]));
  const diskBytes = rec.config.machine['diskBytes'];
  const info = {
    file: path,
    bytes: statSync(path).size,
    ramSize: rec.config.ramSize,
    diskSize: rec.config.diskSize === null ? null : typeof diskBytes === 'number' ? diskBytes : rec.config.diskSize,
    // The optional devices (docs/vmi.md, config.machine.devices): a screen's, or none.
    devices: Array.isArray(rec.config.machine['devices']) ? rec.config.machine['devices'].map(String) : [],
    program: { kind: String(rec.config.machine['kind']), bytes: rec.kernelBytes },
    branches: branches.map((b) => ({
      id: b.id,
      name: b.name,
      parent: b.parent === null ? null : byId.get(b.parent)!.name,
      forkPosition: b.forkPosition,
      length: b.length,
      end: b.forkPosition + b.length,
      events: b.events.length,
      checkpoints: b.checkpoints.length,
      bookmarks: b.bookmarks,
      seekCost: timeline.seekCosts(b.id, WINDOWS).filter((c, i, all) => i === 0 || c.within > all[i - 1]!.within),
    })),
    checkpoints: rec.checkpoints,
    events: branches.reduce((n, b) => n + b.events.length, 0),
    pages: rec.pages,
  };
  if (args.flags.has('json')) {
    process.stdout.write(safeJson(info) + '\n');
    return Exit.ok;
  }
  const lines = [
    `${path}: ${info.bytes} bytes, RAM ${info.ramSize / 1048576} MiB${info.diskSize !== null ? `, disk ${info.diskSize} bytes` : ''}, program ${info.program.kind} (${info.program.bytes} bytes)${info.devices.length ? `, devices ${info.devices.join(', ')}` : ''}`,
    `${info.checkpoints} checkpoints, ${info.events} input events, ${info.pages} distinct pages`,
    'branches:',
    ...info.branches.flatMap((b) => [
      `  ${b.name} (${b.id})${b.parent ? ` from ${b.parent} at ${b.forkPosition}` : ''}: ${b.length} instructions, ${b.events} events, ${b.checkpoints} checkpoints${b.bookmarks.length ? `, bookmarks ${b.bookmarks.map((m) => `${m.name}@${m.position}`).join(' ')}` : ''}`,
      `    a seek replays at most: ${b.seekCost.map((c) => `${count(c.replay)} instructions ${c.within >= b.end ? 'anywhere' : `in the last ${count(c.within)}`}`).join('; ')}`,
    ]),
  ];
  // Branch and bookmark names come from the file: escaped, so that they cannot drive the terminal.
  process.stdout.write(lines.map(printable).join('\n') + '\n');
  return Exit.ok;
}
