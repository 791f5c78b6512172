/** The group file's version 2 (session/group-file.ts): the quanta run, input typed at quanta, where the group stood. */
import fc from 'fast-check';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RewindError } from '../../core/errors.js';
import { Group, type Member } from '../../session/group.js';
import {
  forkGroup,
  groupToFile,
  membersOf,
  openMachine,
  readGroupFile,
  verifyGroup,
  writeGroupFile,
  type GroupFile,
} from '../../session/group-file.js';
import { programSpec } from '../../session/spec.js';
import { ZERO_PAGE_HASH, hash128, hashToBytes, readVmi, type Checkpoint } from '../../storage/index.js';
import { guest, rewind, tempDir } from '../support/cli.js';
import { ROOT } from '../support/manifest.js';

const RAM = 16 << 20;
const QUANTUM = 1000;
const QUANTA = 30;
const text = (s: string) => new TextEncoder().encode(s);
const latin1 = (b: readonly number[]) => Buffer.from(b).toString('latin1');
const member = (name: string, mac: string): Member => ({
  name,
  spec: programSpec(new Uint8Array(readFileSync(guest(name))), { ramSize: RAM, net: { mac } }),
});

/** pong, and echo with three lines typed: two at the start of quantum 3, one at quantum 12. */
const typedPair = (): Member[] => [
  member('pong', '52:54:00:12:34:56'),
  {
    ...member('echo', '52:54:00:12:34:57'),
    typed: [
      { quantum: 3, bytes: text('echo one\n') },
      { quantum: 3, bytes: text('rev abc\n') },
      { quantum: 12, bytes: text('sum 1 2 39\n') },
    ],
  },
];

function runTyped() {
  const group = Group.create(typedPair(), QUANTUM);
  const consoles = group.sessions.map(() => [] as number[]);
  group.sessions.forEach((s, i) => (s.onOutput = (b) => consoles[i]!.push(b)));
  group.run({ quanta: QUANTA });
  return { group, consoles: consoles.map(latin1) };
}

/** ping and pong run to the first quantum after which frames are on their way. */
function pingPongInFlight() {
  const probe = Group.create([member('pong', '52:54:00:12:34:56'), member('ping', '52:54:00:12:34:57')], QUANTUM);
  let quanta = 0;
  probe.run({ afterQuantum: (g) => (g.board.framesInFlight > 0 ? ((quanta = g.quanta), false) : true) });
  expect(quanta).toBeGreaterThan(0);
  const group = Group.create([member('pong', '52:54:00:12:34:56'), member('ping', '52:54:00:12:34:57')], QUANTUM);
  group.run({ quanta });
  return { group, quanta };
}

function refuse(bytes: Uint8Array, message: RegExp): void {
  let error: unknown;
  try {
    readGroupFile(bytes);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(RewindError);
  expect((error as RewindError).code).toBe('bad-vmi');
  expect((error as RewindError).message).toMatch(message);
}

describe('typed input at quanta, run to a number of quanta', () => {
  it('gives each machine its typed input at the start of its quantum, and runs exactly the quanta asked', () => {
    const { group, consoles } = runTyped();
    expect(group.quanta).toBe(QUANTA);
    expect(group.ends.map((e) => e.state)).toEqual(['running', 'waiting']);
    expect(consoles[1]).toContain('> echo one\r\none\r\n');
    expect(consoles[1]).toContain('> rev abc\r\ncba\r\n');
    expect(consoles[1]).toContain('> sum 1 2 39\r\nsum of 3 numbers = 42\r\n');
    const events = group.sessions[1]!.timeline.root().events.filter((e) => e.device === 'uart0');
    expect(events.length).toBe(28);
  });

  it('gives typed input no earlier than its quantum, in the quantum it is stamped with', () => {
    const group = Group.create(typedPair(), QUANTUM);
    const out: number[] = [];
    group.sessions[1]!.onOutput = (b) => out.push(b);
    /** echo's console after each quantum, by the quanta run. */
    const seen: string[] = [];
    group.run({ quanta: 14, afterQuantum: () => void seen.push(latin1(out)) });
    const banner = "Rewind echo console. Type 'help' for commands.\r\n> ";
    expect(seen[2]).toBe(banner);
    expect(seen[3]).toBe(`${banner}echo one\r\none\r\n> rev abc\r\ncba\r\n> `);
    expect(seen[11]).toBe(seen[3]);
    expect(seen[12]).toBe(`${seen[3]}sum 1 2 39\r\nsum of 3 numbers = 42\r\n> `);
  });
});

describe('the group file, version 2', () => {
  const { group } = runTyped();
  const file = groupToFile(group, null, QUANTA);
  const bytes = writeGroupFile(file);
  const typedLength = file.machines[1]!.typed.reduce((n, t) => n + t.bytes.length, 0);

  it('is written as version 2 and read back equal: quanta, typed input, the moment', () => {
    expect(new DataView(bytes.buffer).getUint16(8, true)).toBe(2);
    const back = readGroupFile(bytes);
    expect(back).toEqual(file);
    expect(back.quanta).toBe(QUANTA);
    expect(back.machines[0]!.typed).toEqual([]);
    expect(back.machines[1]!.typed.map((t) => [t.quantum, Buffer.from(t.bytes).toString()])).toEqual([
      [3, 'echo one\n'],
      [3, 'rev abc\n'],
      [12, 'sum 1 2 39\n'],
    ]);
    expect(back.moment).toEqual({
      quanta: QUANTA,
      dropped: 0,
      ends: [{ state: 'running' }, { state: 'waiting' }],
      learnt: [],
      inFlight: [[], []],
    });
    expect(membersOf(back)[1]!.typed).toEqual(back.machines[1]!.typed);
    expect(Buffer.from(writeGroupFile(back)).equals(Buffer.from(bytes))).toBe(true);
    // The typed bytes are the last of the file (no fork inputs, no frames on their way).
    expect(Buffer.from(bytes.subarray(bytes.length - typedLength)).toString()).toBe('echo one\nrev abc\nsum 1 2 39\n');
  });

  it('verifies: each machine alone, and the group together to its quanta and its moment', () => {
    const verdicts = verifyGroup(readGroupFile(bytes));
    expect(verdicts.map((v) => v.problem)).toEqual([null, null]);
    expect(verdicts[1]!.checked).toBeGreaterThanOrEqual(2);
  });

  it('the same file twice from two runs', () => {
    const again = writeGroupFile(groupToFile(runTyped().group, null, QUANTA));
    expect(Buffer.from(again).equals(Buffer.from(bytes))).toBe(true);
  });

  it('names a typed byte that was changed, and every other problem of the new fields', () => {
    const b = bytes.slice();
    b[b.length - typedLength + 12]! ^= 1; // in 'rev abc\n'
    refuse(b, /machine 1's typed input 1 does not match its hash/);
    const rewrite = (change: (f: GroupFile) => GroupFile) => writeGroupFile(change(structuredClone(file)));
    refuse(
      rewrite((f) => {
        f.machines[1]!.typed.reverse();
        return f;
      }),
      /typed input 1 is at quantum 3, before the one typed ahead of it/,
    );
    refuse(
      rewrite((f) => ({ ...f, quanta: 29 })),
      /the moment is after 30 quanta, the group ran 29/,
    );
    refuse(
      rewrite((f) => ({ ...f, moment: { ...f.moment!, learnt: [['52:54:0:12:34:56', 2]] } })),
      /switch entry 0 names port 2, not one of 0 to 1/,
    );
    refuse(
      rewrite((f) => ({ ...f, moment: { ...f.moment!, learnt: [['52:54:00:12:34:56', 0]] } })),
      /switch entry 0 has no valid MAC/,
    );
    refuse(
      rewrite((f) => ({ ...f, moment: { ...f.moment!, ends: [{ state: 'waiting' }] } })),
      /does not give every machine its end/,
    );
    refuse(
      rewrite((f) => ({ ...f, moment: { ...f.moment!, inFlight: [[new Uint8Array(8)], []] } })),
      /frame 0 on its way to machine 0 is of 8 bytes, not 14 to 1518/,
    );
    refuse(
      rewrite((f) => {
        f.machines[1]!.input = text('x');
        return f;
      }),
      /machine 1 has both console input and typed input/,
    );
    // Fields of the manifest itself (re-hashed, so only the field is wrong).
    const manifest = (edit: (m: Record<string, unknown>) => void) => {
      const view = new DataView(bytes.buffer, bytes.byteOffset);
      const m = view.getUint32(12, true);
      const json = JSON.parse(Buffer.from(bytes.subarray(56, 56 + m)).toString()) as Record<string, unknown>;
      edit(json);
      return reassemble(bytes, Buffer.from(JSON.stringify(json)));
    };
    refuse(
      manifest((m) => {
        m['quanta'] = -1;
      }),
      /quanta is not valid/,
    );
    refuse(
      manifest((m) => {
        (m['moment'] as { ends: unknown[] }).ends[1] = { state: 'power', power: { kind: 'off' } };
      }),
      /machine 1's power event in the moment is not pass, fail or reset/,
    );
    refuse(
      manifest((m) => {
        (m['moment'] as { ends: unknown[] }).ends[0] = { state: 'asleep' };
      }),
      /machine 0's end in the moment is not running, power, waiting or limit/,
    );
    refuse(
      manifest((m) => {
        delete (m['machines'] as Record<string, unknown>[])[0]!['typed'];
      }),
      /machine 0 has no list of typed input/,
    );
  });
});

/** The file with another manifest, its header and lengths made whole again. */
function reassemble(bytes: Uint8Array, manifest: Uint8Array): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const m = view.getUint32(12, true);
  const data = bytes.subarray(56 + m);
  const out = new Uint8Array(56 + manifest.length + data.length);
  out.set(bytes.subarray(0, 56));
  out.set(manifest, 56);
  out.set(data, 56 + manifest.length);
  const v = new DataView(out.buffer);
  v.setUint32(12, manifest.length, true);
  v.setUint32(16, out.length, true);
  out.set(hashToBytes(hash128(manifest)), 24);
  out.set(hashToBytes(hash128(out.subarray(0, 40))), 40);
  return out;
}

describe('a damaged version 2 file', () => {
  it('is refused as bad-vmi, never another exception, wherever it is damaged (the typed bytes and frames on their way too)', () => {
    const { group } = pingPongInFlight();
    // ping and pong with a frame on its way, and pong's typed input (which it never reads).
    const file = groupToFile(group, null, group.quanta);
    file.machines[0]!.typed = [{ quantum: 1, bytes: text('abc') }];
    const bytes = writeGroupFile(file);
    expect(readGroupFile(bytes).moment!.inFlight.flat().length).toBeGreaterThan(0);
    const tail = 3 + file.moment!.inFlight.flat().reduce((n, f) => n + f.length, 0);
    fc.assert(
      fc.property(
        fc.array(fc.record({ back: fc.nat(tail - 1), xor: fc.integer({ min: 1, max: 255 }) }), {
          minLength: 1,
          maxLength: 3,
        }),
        (flips) => {
          const b = bytes.slice();
          for (const f of flips) b[b.length - 1 - f.back]! ^= f.xor;
          expect(() => readGroupFile(b)).toThrow(/does not match its hash/);
        },
      ),
      { numRuns: 50 },
    );
    fc.assert(
      fc.property(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 }), fc.nat(bytes.length), (at, xor, cut) => {
        const b = bytes.slice(0, Math.max(cut, 1));
        if (at < b.length) b[at]! ^= xor;
        try {
          readGroupFile(b).machines.forEach((m) => openMachine(m));
        } catch (e) {
          expect(e).toBeInstanceOf(RewindError);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('a moment that differs', () => {
  it('fails verify when the saved moment dropped other frames, or holds another frame on its way', () => {
    const { group, quanta } = pingPongInFlight();
    const file = groupToFile(group, null, quanta);
    expect(file.moment!.quanta).toBe(quanta);
    const inFlight = file.moment!.inFlight;
    expect(inFlight.flat().length).toBeGreaterThan(0);
    expect(verifyGroup(readGroupFile(writeGroupFile(file))).map((v) => v.problem)).toEqual([null, null]);

    const dropped = readGroupFile(writeGroupFile({ ...file, moment: { ...file.moment!, dropped: 1 } }));
    expect(verifyGroup(dropped)[0]!.problem).toBe("together: the group's moment differs: 0 frames dropped, saved 1");

    const to = inFlight.findIndex((q) => q.length > 0);
    const changed = inFlight.map((q) => q.map((f) => f.slice()));
    changed[to]![0]![20]! ^= 0xff;
    const other = readGroupFile(writeGroupFile({ ...file, moment: { ...file.moment!, inFlight: changed } }));
    const verdicts = verifyGroup(other);
    expect(verdicts[to]!.problem).toBe(
      "together: the group's moment differs: frame 0 on its way to it is not the one saved",
    );
    expect(verdicts[1 - to]!.problem).toBeNull();

    const fewer = inFlight.map((q, i) => (i === to ? q.slice(1) : q));
    expect(
      verifyGroup(readGroupFile(writeGroupFile({ ...file, moment: { ...file.moment!, inFlight: fewer } })))[to]!
        .problem,
    ).toBe(
      `together: the group's moment differs: ${inFlight[to]!.length} frames on their way to it, saved ${inFlight[to]!.length - 1}`,
    );
  });

  it('`rewind group replay --verify` fails with one line and status 1', () => {
    const { group } = runTyped();
    const file = groupToFile(group, null, QUANTA);
    const dir = tempDir();
    const path = join(dir, 'moved.vmg');
    writeFileSync(
      path,
      writeGroupFile({ ...file, moment: { ...file.moment!, ends: [{ state: 'waiting' }, { state: 'waiting' }] } }),
    );
    const r = rewind(['group', 'replay', path, '--verify']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      'rewind: verify failed: pong: together: the group\'s moment differs: its end is {"state":"running"}, saved {"state":"waiting"}\n',
    );
  });
});

describe('a version 1 group file', () => {
  const path = join(ROOT, 'tests/fixtures/vmg-v1/ping-pong.vmg');
  const bytes = new Uint8Array(readFileSync(path));

  it('still reads, replays and verifies', () => {
    expect(new DataView(bytes.buffer, bytes.byteOffset).getUint16(8, true)).toBe(1);
    const file = readGroupFile(bytes);
    expect(file.quanta).toBeNull();
    expect(file.moment).toBeNull();
    expect(file.machines.map((m) => [m.name, m.typed])).toEqual([
      ['pong', []],
      ['ping', []],
    ]);
    for (const m of file.machines) {
      const alone = openMachine(m);
      const r = alone.replay(alone.timeline.root().id, { verify: true });
      expect(r.mismatch).toBeNull();
      expect(r.power).toEqual({ kind: 'pass' });
    }
    expect(verifyGroup(file).map((v) => v.problem)).toEqual([null, null]);
    const cli = rewind(['group', 'replay', path, '--verify']);
    expect(cli.status).toBe(0);
    expect(cli.stdout).toContain('[ping] ping: 8 of 8 pongs good');
    expect(cli.stderr).toMatch(/^rewind: verified pong: \d+ checkpoints up to position \d+, alone and together\n/);
  });

  it('`rewind group -o` makes the same group as version 2: quanta null, its moment the end of the run', () => {
    const out = join(tempDir(), 'pp.vmg');
    const r = rewind(['group', guest('pong'), guest('ping'), '-o', out]);
    expect(r.status).toBe(0);
    const written = new Uint8Array(readFileSync(out));
    expect(new DataView(written.buffer, written.byteOffset).getUint16(8, true)).toBe(2);
    const file = readGroupFile(written);
    const old = readGroupFile(bytes);
    expect(file.quanta).toBeNull();
    expect(file.moment!.dropped).toBe(0);
    expect(file.moment!.ends).toEqual([
      { state: 'power', power: { kind: 'pass' } },
      { state: 'power', power: { kind: 'pass' } },
    ]);
    expect(file.moment!.inFlight).toEqual([[], []]);
    // Each machine's recording is the one the version 1 file holds: the same checkpoints, states and
    // pages (the bytes may differ where an encoder changed since, and a checkpoint may be a full map
    // where it was a delta).
    const content = (vmi: Uint8Array) => {
      const rec = readVmi(vmi);
      const byId = new Map(rec.checkpoints.map((c) => [c.id, c]));
      const pages = (c: Checkpoint) => {
        const chain: Checkpoint[] = [];
        for (let x: Checkpoint | undefined = c; x; x = x.full ? undefined : byId.get(x.parent!)) chain.unshift(x);
        const table = new Map<number, string>();
        for (const x of chain) for (const [i, h] of x.ram) table.set(i, h);
        return [...table].filter(([, h]) => h !== ZERO_PAGE_HASH).sort((a, b) => a[0] - b[0]);
      };
      return rec.checkpoints.map((c) => [c.position, c.stateHash, pages(c)]);
    };
    expect(file.machines.map((m) => content(m.vmi))).toEqual(old.machines.map((m) => content(m.vmi)));
  });

  it('is written again as version 2, quanta null, its moment the end of the run', () => {
    const file = readGroupFile(bytes);
    const fork = forkGroup(file, 40);
    fork.run();
    const saved = readGroupFile(writeGroupFile(groupToFile(fork, null)));
    expect(saved.quanta).toBeNull();
    expect(saved.moment!.ends).toEqual([
      { state: 'power', power: { kind: 'pass' } },
      { state: 'power', power: { kind: 'pass' } },
    ]);
    expect(verifyGroup(saved).map((v) => v.problem)).toEqual([null, null]);
  });
});

describe('a fork of a version 2 file with typed input', () => {
  const file = readGroupFile(writeGroupFile(groupToFile(runTyped().group, null, QUANTA)));

  it('keeps what was typed before the fork, drops what was typed at or after it, and verifies on both branches', () => {
    const fork = forkGroup(file, 8, [undefined, text('echo forked\n')]);
    const out: number[] = [];
    fork.sessions[1]!.onOutput = (b) => out.push(b);
    fork.run({ quanta: QUANTA });
    expect(fork.quanta).toBe(QUANTA);
    expect(latin1(out)).toBe('echo forked\r\nforked\r\n> ');
    // The members keep what was typed into the run forked from; the fork takes none of it from quantum 8 on (its branch's events below).
    expect(fork.members[1]!.typed!.map((t) => t.quantum)).toEqual([3, 3, 12]);
    const echo = fork.sessions[1]!;
    expect(echo.branches().map((b) => b.name)).toEqual(['main', 'group@8']);
    const saved = readGroupFile(writeGroupFile(groupToFile(fork, null, QUANTA)));
    // The file keeps the first branch's typed input whole.
    expect(saved.machines[1]!.typed.map((t) => t.quantum)).toEqual([3, 3, 12]);
    expect(saved.forks.map((f) => [f.quantum, f.branch])).toEqual([[8, 'group@8']]);
    expect(saved.moment!.quanta).toBe(QUANTA);
    expect(verifyGroup(saved).map((v) => v.problem)).toEqual([null, null]);
    // The fork's branch of echo holds its two typed lines and the fork's line, not the sum.
    const branch = echo.timeline.branch(echo.branch);
    const typed = branch.events.filter((e) => e.device === 'uart0');
    expect(typed.length).toBe(12);
  });

  it('a fork before anything was typed gives the machine none of it', () => {
    const fork = forkGroup(file, 2);
    const out: number[] = [];
    fork.sessions[1]!.onOutput = (b) => out.push(b);
    fork.run({ quanta: QUANTA });
    expect(out.length).toBe(0);
    expect(fork.ends[1]!.state).toBe('waiting');
    expect(verifyGroup(readGroupFile(writeGroupFile(groupToFile(fork, null, QUANTA)))).map((v) => v.problem)).toEqual([
      null,
      null,
    ]);
  });

  it('is refused past the quanta the file ran', () => {
    expect(() => forkGroup(file, QUANTA + 1)).toThrow(/the group ran 30 quanta, not as far as quantum 31/);
    expect(() => groupToFile(runTyped().group, null, QUANTA - 1)).toThrow(/has run 30 quanta, not 29/);
  });

  it("`rewind group fork` runs the fork to the file's quanta and saves it, and it verifies", () => {
    const dir = tempDir();
    const path = join(dir, 'typed.vmg');
    writeFileSync(path, writeGroupFile(file));
    writeFileSync(join(dir, 'in1'), 'rev forked\n');
    const r = rewind([
      'group',
      'fork',
      path,
      '--at-quantum',
      '8',
      '--input-file-1',
      join(dir, 'in1'),
      '-o',
      join(dir, 'out.vmg'),
    ]);
    expect(r.stdout).toBe('[echo] rev forked\r\n[echo] dekrof\r\n[echo] > \n');
    expect(r.status).toBe(125);
    const out = readGroupFile(new Uint8Array(readFileSync(join(dir, 'out.vmg'))));
    expect(out.quanta).toBe(QUANTA);
    expect(out.moment!.quanta).toBe(QUANTA);
    const v = rewind(['group', 'replay', join(dir, 'out.vmg'), '--verify']);
    expect(v.stderr).toMatch(/verified echo: \d+ checkpoints/);
    expect(v.status).toBe(0);
  });
});
