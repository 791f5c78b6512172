/**
 * Time travel on Linux: a recording of the boot and typed commands replays
 * with --verify in another process, a seek into the middle of the boot gives
 * the state of a linear run, and a fork after boot types other commands
 * while both branches still replay. Needs the guest built by
 * `npm run build:linux` and the CLI built by `npm run build:cli`; skipped
 * with the reason when Linux is not built.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Session } from '../../session/session.js';
import { writeVmi } from '../../storage/index.js';
import { rewind, tempDir } from '../support/cli.js';
import { PROMPT, linuxMissing, linuxSpec } from './linux-run.js';

const missing = linuxMissing();
const BOOT_BUDGET = 400_000_000;
const COMMAND_BUDGET = 200_000_000;
/** Steps between looks at the output: where a prompt ends a run is then deterministic. */
const SLICE = 500_000;

/** A recording session whose live console output is kept per branch (replays during seeks are not). */
class Recorder {
  readonly session = Session.create(linuxSpec());
  private live = true;
  private readonly bytes = new Map<string, number[]>();

  constructor() {
    this.session.onOutput = (b) => {
      if (this.live) this.out().push(b);
    };
  }

  /** The live output of the current branch, including what it inherited at its fork. */
  out(branch = this.session.branch): number[] {
    let o = this.bytes.get(branch);
    if (!o) this.bytes.set(branch, (o = []));
    return o;
  }

  text(branch?: string): string {
    return Buffer.from(this.out(branch)).toString('latin1');
  }

  /** Runs, recording, until the branch's output ends with a new prompt (checked every SLICE steps). */
  toPrompt(budget: number): void {
    const from = this.out().length;
    const prompted = () => this.out().length > from && this.text().endsWith(PROMPT);
    let steps = 0;
    while (!prompted()) {
      if (steps >= budget) throw new Error(`no prompt at ${this.session.position}; output:\n${this.text()}`);
      const r = this.session.run(SLICE);
      steps += r.steps;
      if (r.reason === 'power') throw new Error(`the guest powered off; output:\n${this.text()}`);
    }
  }

  command(line: string): void {
    this.session.type(new TextEncoder().encode(line + '\n'));
    this.toPrompt(COMMAND_BUDGET);
  }

  /** Moves in time without keeping the output that the replay prints again. */
  travel<T>(op: () => T): T {
    this.live = false;
    try {
      return op();
    } finally {
      this.live = true;
    }
  }
}

describe.skipIf(missing !== null)(`time travel on Linux${missing ? ` (skipped: ${missing})` : ''}`, () => {
  const dir = tempDir();
  const vmi = join(dir, 'linux.vmi');
  let rec: Recorder;
  /** Just after the shell's first prompt (at a SLICE boundary): the end of the boot. */
  let booted: number;
  let bootText: string;

  beforeAll(() => {
    rec = new Recorder();
    rec.toPrompt(BOOT_BUDGET);
    booted = rec.session.position;
    bootText = rec.text();
    rec.command('echo first branch');
    rec.command('mount /dev/vda /mnt');
    rec.command('cat /mnt/hello.txt');
    rec.session.checkpointHere();
    writeFileSync(vmi, writeVmi(rec.session.toRecording()));
  });

  it('a recording of boot and commands replays with --verify in another process', () => {
    expect(rec.text()).toContain('first branch\r\n');
    expect(rec.text()).toContain('Hello from an ext2 file system on a virtio disk!');
    const r = rewind(['replay', vmi, '--verify']);
    expect(r.stderr).toMatch(/verified [1-9]\d* checkpoints up to position/);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(rec.text());
  });

  it('the CLI records a boot with typed input and replays it with --verify', () => {
    const input = join(dir, 'typed.in');
    writeFileSync(input, 'echo typed early\nuname -s\npoweroff\n');
    const out = join(dir, 'cli.vmi');
    const recorded = rewind(['record', '--linux', '-o', out, '--input-file', input]);
    expect(recorded.stderr).not.toMatch(/error/i);
    expect(recorded.status).toBe(0);
    // The tty echoes the lines as the UART takes them, before the shell reads them.
    expect(recorded.stdout).toContain('echo typed early\r\nuname -s\r\npoweroff\r\n');
    expect(recorded.stdout).toContain(`${PROMPT}typed early\r\n${PROMPT}Linux\r\n`);
    expect(recorded.stdout).toContain('reboot: Power down');
    const replayed = rewind(['replay', out, '--verify']);
    expect(replayed.stderr).toMatch(/verified [1-9]\d* checkpoints/);
    expect(replayed.status).toBe(0);
    expect(replayed.stdout).toBe(recorded.stdout);
  });

  it('a seek into the middle of the boot gives the state of a linear run to there', () => {
    const middle = Math.floor(booted / 2) + 12_345;
    const early = Math.floor(booted / 5) + 777;
    // Backwards from the end, then forwards from an earlier point.
    const seekMiddle = rec.travel(() => {
      rec.session.seek({ branch: 'main', position: middle });
      return rec.session.snapshot();
    });
    const seekEarly = rec.travel(() => {
      rec.session.seek({ branch: 'main', position: early });
      return rec.session.snapshot();
    });
    const again = rec.travel(() => {
      rec.session.seek({ branch: 'main', position: middle });
      return rec.session.snapshot();
    });
    expect(again).toEqual(seekMiddle);
    // The linear runs happen in other processes: from reset (no recording) and in the written .vmi.
    const linear = JSON.parse(rewind(['state', '--linux', '--at', String(middle)]).stdout);
    expect(linear.position).toBe(middle);
    expect(seekMiddle).toEqual(linear);
    expect(JSON.parse(rewind(['state', vmi, '--at', String(early)]).stdout)).toEqual(seekEarly);
    expect(seekEarly.hash).not.toBe(seekMiddle.hash);
  });

  it('a fork after boot types other commands, and both branches replay with their own output', () => {
    const main = rec.session.branch;
    const mainText = rec.text(main);
    const fork = rec.travel(() => rec.session.fork(booted, 'other'));
    rec.out(fork).push(...Buffer.from(bootText, 'latin1'));
    rec.command('uname -s');
    rec.command('echo second branch');
    rec.session.checkpointHere();
    const forked = join(dir, 'forked.vmi');
    writeFileSync(forked, writeVmi(rec.session.toRecording()));

    // At the fork the two branches are one state; after it each has its own.
    const hashAt = (branch: string, position: number) =>
      rec.travel(() => {
        rec.session.seek({ branch, position });
        return rec.session.stateHash();
      });
    expect(hashAt(fork, booted)).toBe(hashAt(main, booted));
    const later = Math.min(rec.session.branchEnd(main), rec.session.branchEnd(fork));
    expect(hashAt(fork, later)).not.toBe(hashAt(main, later));

    const onMain = rewind(['replay', forked, '--branch', 'main', '--verify']);
    expect(onMain.status).toBe(0);
    expect(onMain.stderr).toMatch(/verified [1-9]\d* checkpoints/);
    expect(onMain.stdout).toBe(mainText);
    const onOther = rewind(['replay', forked, '--branch', 'other', '--verify']);
    expect(onOther.status).toBe(0);
    expect(onOther.stderr).toMatch(/verified [1-9]\d* checkpoints/);
    expect(onOther.stdout).toBe(rec.text(fork));
    expect(onOther.stdout).toContain(`${PROMPT}uname -s\r\nLinux\r\n`);
    expect(onOther.stdout).toContain('second branch\r\n');
    expect(onOther.stdout).not.toContain('first branch');
    expect(onMain.stdout).not.toContain('second branch');
  });
});
