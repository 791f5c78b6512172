/**
 * The GDB remote serial protocol over a time-travel session: registers,
 * memory, breakpoints and watchpoints, forward and reverse execution, and
 * `monitor` commands for Rewind's own operations.
 *
 * One client at a time, all-stop mode, one thread. The stub answers every
 * packet it does not know with an empty reply and every malformed one with
 * an error reply; nothing a client sends ends the stub.
 *
 * Forward runs go in slices so that a Ctrl-C (0x03) can stop them; reverse
 * runs are one synchronous search (Session.reverseContinue).
 */
import { RewindError } from '../../core/errors.js';
import { csrReadOnly, peekCsr } from '../../core/csr.js';
import { debugReadVirtual, debugTranslate } from '../../core/debug.js';
import type { Session, Stop } from '../../session/session.js';
import type { WatchKind, WatchRange } from '../../core/cpu.js';
import {
  MAX_PACKET,
  fromHex,
  parseHexNumber,
  parseWord32,
  toHex,
  unescapeBinary,
  word32,
  type Incoming,
} from './packets.js';
import { CSR_REGNUM_BASE, DEBUG_CSRS, G_REGISTERS, PC_REGNUM, PRIV_REGNUM, targetXml } from './registers.js';
import { runMonitor } from './monitor.js';

/** Steps per forward slice: between slices the stub looks at the socket (Ctrl-C). */
const SLICE = 1_000_000;
/** Bytes per `m` reply at most (two hex digits per byte, under the packet size). */
const MAX_READ = (MAX_PACKET - 16) >> 1;

/** Signals as gdb numbers them (include/gdb/signals.h). */
const SIGINT = 2;
const SIGTRAP = 5;

/** Why the target last stopped, as a stop reply reports it. */
export interface StopInfo {
  signal: number;
  /** Extra `n:r;` pairs: watch:ADDR, replaylog:begin|end. */
  extra?: string;
}

/** Where replies go: the connection, as the server sees it. */
export interface Channel {
  /** Sends one reply packet's data (framing and escaping are the channel's). */
  send(data: string): void;
  /** Ends the connection (after detach or kill). */
  close(): void;
}

export interface StubOptions {
  /** Console input typed into the guest as it becomes ready for it. */
  input?: Uint8Array;
  /** Where `monitor save` writes when given no path. */
  savePath?: string;
  /** Writes the session as a .vmi (the CLI's saveVmi). */
  save?: (path: string) => Promise<number>;
  /** Called after the guest's console output of a slice, to flush it. */
  flushOutput?: () => void;
  /** The client sent `k`: the CLI ends the stub. */
  onKill?: () => void;
  /** Messages for the stub's own log (stderr). */
  log?: (message: string) => void;
}

export class GdbStub {
  private readonly breakpoints = new Set<number>();
  private readonly watchpoints = new Map<string, WatchRange>();
  private lastStop: StopInfo = { signal: SIGTRAP };
  private interrupted = false;
  private running = false;

  constructor(
    readonly session: Session,
    private readonly options: StubOptions = {},
  ) {
    // The input file, then what `monitor type` adds: the live end of any branch takes what its lineage has not.
    session.script(options.input ?? []);
  }

  /** Packets are handled one at a time, whichever connection they come from. */
  private turn: Promise<void> = Promise.resolve();

  /** Handles what the packet reader found; resolves once the reply is sent. */
  receive(item: Incoming, channel: Channel): Promise<void> {
    const next = this.turn.then(() => this.handle(item, channel));
    this.turn = next.catch(() => {});
    return next;
  }

  private async handle(item: Incoming, channel: Channel): Promise<void> {
    switch (item.kind) {
      case 'interrupt':
        if (this.running) this.interrupted = true;
        return;
      case 'oversized':
        channel.send('E01');
        return;
      case 'packet':
        try {
          await this.dispatch(item.data, channel);
        } catch (e) {
          // A packet that made the session throw (a bad seek, a write outside RAM) gets an error reply.
          this.options.log?.(`gdb: ${item.data.slice(0, 40)}: ${e instanceof Error ? e.message : String(e)}`);
          channel.send(e instanceof RewindError ? 'E16' : 'E0f');
        }
        return;
      case 'ack':
      case 'nack':
      case 'bad-checksum':
        // The server handles acknowledgements; they never reach the stub.
        return;
    }
  }

  /** Asks a running forward execution to stop (as Ctrl-C does). */
  interrupt(): void {
    if (this.running) this.interrupted = true;
  }

  private async dispatch(packet: string, channel: Channel): Promise<void> {
    const send = (data: string) => channel.send(data);
    const head = packet[0];
    const body = packet.slice(1);
    switch (head) {
      case '?':
        return send(this.stopReply(this.lastStop));
      case 'g':
        return send(packet === 'g' ? this.readAllRegisters() : '');
      case 'G':
        return send(this.writeAllRegisters(body));
      case 'p':
        return send(this.readRegister(body));
      case 'P':
        return send(this.writeRegister(body));
      case 'm':
        return send(this.readMemory(body));
      case 'M':
        return send(this.writeMemoryHex(body));
      case 'X':
        return send(this.writeMemoryBinary(body));
      case 'Z':
      case 'z':
        return send(this.breakOrWatch(head === 'Z', body));
      case 'c':
      case 's':
      case 'C':
      case 'S':
        return this.resumeLegacy(head, body, send);
      case 'b':
        if (packet === 'bs') return send(this.stopReply(this.reverseStep()));
        if (packet === 'bc') return send(this.stopReply(this.reverseContinue()));
        return send('');
      case 'v':
        return this.vPacket(packet, channel);
      case 'H':
        return send(/^H[gcm](-1|0|[0-9a-fA-F]+)$/.test(packet) ? 'OK' : 'E01');
      case 'T':
        return send(/^T(-1|0|1|01)$/.test(packet) ? 'OK' : 'E01');
      case 'D':
        send('OK');
        channel.close();
        return;
      case 'k':
        channel.close();
        this.options.onKill?.();
        return;
      case 'q':
      case 'Q':
        return this.query(packet, channel);
      default:
        return send('');
    }
  }

  // ---- registers ----

  private readAllRegisters(): string {
    const cpu = this.session.machine.cpu;
    let s = '';
    for (let i = 0; i < 32; i++) s += word32(cpu.x[i]!);
    return s + word32(cpu.pcValue);
  }

  private writeAllRegisters(hex: string): string {
    if (hex.length < 32 * 8 || hex.length % 8 !== 0) return 'E01';
    const values: number[] = [];
    for (let i = 0; i < Math.min(G_REGISTERS, hex.length / 8); i++) {
      const v = parseWord32(hex.slice(8 * i, 8 * i + 8));
      if (v === null) return 'E01';
      values.push(v);
    }
    // Only what changes is written, so a G that repeats the registers forks nothing.
    values.forEach((v, i) => {
      if (i > 0 && v !== this.registerValue(i)) this.session.writeRegister(i, v);
    });
    return 'OK';
  }

  private registerValue(regnum: number): number | undefined {
    const cpu = this.session.machine.cpu;
    if (regnum >= 0 && regnum < 32) return cpu.x[regnum]! >>> 0;
    if (regnum === PC_REGNUM) return cpu.pcValue;
    if (regnum === PRIV_REGNUM) return cpu.priv;
    const num = regnum - CSR_REGNUM_BASE;
    if (!DEBUG_CSRS.some((c) => c.num === num)) return undefined;
    // As M-mode would read it, without side effects.
    return peekCsr(cpu, num);
  }

  private readRegister(text: string): string {
    const n = parseHexNumber(text);
    if (n === null) return 'E01';
    const v = this.registerValue(n);
    if (v === undefined) return 'E45';
    return word32(v);
  }

  private writeRegister(text: string): string {
    const m = /^([0-9a-fA-F]+)=([0-9a-fA-F]+)$/.exec(text);
    if (!m) return 'E01';
    const n = parseHexNumber(m[1]!);
    const v = parseWord32(m[2]!);
    if (n === null || v === null) return 'E01';
    if (n === 0) return 'OK'; // x0 stays zero.
    if (n >= CSR_REGNUM_BASE && n < PRIV_REGNUM) {
      // A CSR: a recorded event too (Session.writeCsr); one that does not exist or is read-only cannot be written.
      const csr = n - CSR_REGNUM_BASE;
      const now = peekCsr(this.session.machine.cpu, csr);
      if (now === undefined || csrReadOnly(csr)) return 'E01';
      if (v !== now >>> 0) this.session.writeCsr(csr, v);
      return 'OK';
    }
    // Otherwise only x1..x31 and pc can be written as recorded events (Session.writeRegister).
    if (n > PC_REGNUM) return 'E01';
    if (v !== this.registerValue(n)) this.session.writeRegister(n, v);
    return 'OK';
  }

  // ---- memory ----

  private parseAddressLength(text: string): { address: number; length: number } | null {
    const m = /^([0-9a-fA-F]+),([0-9a-fA-F]+)$/.exec(text);
    if (!m) return null;
    const address = parseHexNumber(m[1]!);
    const length = parseHexNumber(m[2]!);
    if (address === null || length === null) return null;
    return { address, length };
  }

  private readMemory(text: string): string {
    const al = this.parseAddressLength(text);
    if (!al) return 'E01';
    if (al.length === 0) return '';
    const bytes = debugReadVirtual(this.session.machine.cpu, al.address, Math.min(al.length, MAX_READ));
    return bytes.length === 0 ? 'E14' : toHex(bytes);
  }

  private writeMemoryHex(text: string): string {
    const colon = text.indexOf(':');
    if (colon < 0) return 'E01';
    const al = this.parseAddressLength(text.slice(0, colon));
    const data = fromHex(text.slice(colon + 1));
    if (!al || !data || data.length !== al.length) return 'E01';
    return this.writeVirtual(al.address, data);
  }

  private writeMemoryBinary(text: string): string {
    const colon = text.indexOf(':');
    if (colon < 0) return 'E01';
    const al = this.parseAddressLength(text.slice(0, colon));
    const data = unescapeBinary(text.slice(colon + 1));
    if (!al || !data || data.length !== al.length) return 'E01';
    return this.writeVirtual(al.address, data);
  }

  /** Writes through the current translation, one physically contiguous run at a time; all or nothing. */
  private writeVirtual(address: number, data: Uint8Array): string {
    if (data.length === 0) return 'OK';
    const cpu = this.session.machine.cpu;
    const runs: { pa: number; from: number; to: number }[] = [];
    for (let i = 0; i < data.length; i++) {
      const pa = debugTranslate(cpu, (address + i) >>> 0, 'write');
      if (pa < 0 || cpu.readPhysical(pa, 1) === undefined) return 'E14';
      const last = runs[runs.length - 1];
      if (last && last.pa + (i - last.from) === pa) last.to = i + 1;
      else runs.push({ pa, from: i, to: i + 1 });
    }
    // Skip a write that changes nothing, so that it forks nothing.
    const same = runs.every((r) => data.subarray(r.from, r.to).every((b, k) => cpu.readPhysical(r.pa + k, 1) === b));
    if (same) return 'OK';
    for (const r of runs) this.session.writeMemory(r.pa, data.slice(r.from, r.to));
    return 'OK';
  }

  // ---- breakpoints and watchpoints ----

  private breakOrWatch(insert: boolean, text: string): string {
    const m = /^([0-4]),([0-9a-fA-F]+),([0-9a-fA-F]+)(;.*)?$/.exec(text);
    if (!m) return 'E01';
    const type = Number(m[1]);
    const address = parseHexNumber(m[2]!);
    const kind = parseHexNumber(m[3]!);
    if (address === null || kind === null) return 'E01';
    switch (type) {
      case 0:
      case 1:
        if (insert) this.breakpoints.add(address >>> 0);
        else this.breakpoints.delete(address >>> 0);
        this.session.setStops(this.stops());
        return 'OK';
      default: {
        // Write (2), read (3) and access (4) watchpoints.
        if (kind === 0 || kind > 0x10000) return 'E01';
        const key = `${type}:${address}:${kind}`;
        const watch: WatchKind = type === 2 ? 'write' : type === 3 ? 'read' : 'access';
        if (insert) this.watchpoints.set(key, { address, length: kind, kind: watch });
        else this.watchpoints.delete(key);
        this.session.setStops(this.stops());
        return 'OK';
      }
    }
  }

  private stops(): { breakpoints: number[]; watchpoints: WatchRange[] } {
    return { breakpoints: [...this.breakpoints], watchpoints: [...this.watchpoints.values()] };
  }

  // ---- execution ----

  private async resumeLegacy(head: string, body: string, send: (d: string) => void): Promise<void> {
    // c [addr], s [addr], C sig[;addr], S sig[;addr]: the signal is dropped (the machine has none).
    let addrText = body;
    if (head === 'C' || head === 'S') {
      const m = /^[0-9a-fA-F]{1,2}(?:;([0-9a-fA-F]+))?$/.exec(body);
      if (!m) return send('E01');
      addrText = m[1] ?? '';
    }
    if (addrText !== '') {
      const a = parseHexNumber(addrText);
      if (a === null) return send('E01');
      if (a !== this.session.machine.cpu.pcValue) this.session.writeRegister(PC_REGNUM, a);
    }
    const stop = head === 'c' || head === 'C' ? await this.continueForward(send) : this.stepForward();
    send(this.stopReply(stop));
  }

  private async vPacket(packet: string, channel: Channel): Promise<void> {
    const send = (d: string) => channel.send(d);
    if (packet === 'vCont?') return send('vCont;c;C;s;S');
    if (packet.startsWith('vCont;')) {
      // The first action that applies to our one thread (or to all) decides.
      for (const action of packet.slice(6).split(';')) {
        const m = /^([cCsSt])([0-9a-fA-F]{2})?(?::(-1|0|[0-9a-fA-F]+|p[0-9a-fA-F-]+\.[0-9a-fA-F-]+))?$/.exec(action);
        if (!m) return send('E01');
        const what = m[1]!;
        if (what === 't') return send('OK');
        const stop = what === 'c' || what === 'C' ? await this.continueForward(send) : this.stepForward();
        return send(this.stopReply(stop));
      }
      return send('E01');
    }
    if (packet === 'vKill' || packet.startsWith('vKill;')) {
      send('OK');
      channel.close();
      this.options.onKill?.();
      return;
    }
    // vMustReplyEmpty, vFile, vRun, vAttach...: not supported.
    return send('');
  }

  /** Adds console input (monitor type); it is taken once the guest is ready at the end of a branch. */
  typeInput(bytes: Iterable<number>): void {
    this.session.script(bytes);
  }

  private stepForward(): StopInfo {
    const session = this.session;
    if (session.machine.power && session.machine.power.kind !== 'reset')
      return this.setStop({ signal: SIGTRAP, extra: 'replaylog:end;' });
    const stop = session.run(1, { resume: true });
    this.options.flushOutput?.();
    return stop.reason === 'watchpoint' ? this.watchStop(stop, true) : this.setStop({ signal: SIGTRAP });
  }

  private async continueForward(send: (d: string) => void): Promise<StopInfo> {
    const session = this.session;
    const message = (text: string) => send('O' + toHex(Buffer.from(text + '\n')));
    this.running = true;
    this.interrupted = false;
    try {
      for (let first = true; ; first = false) {
        if (this.interrupted) return this.setStop({ signal: SIGINT });
        // gdb's continue from a stop executes the instruction it stands on; later slices stop at a breakpoint on their boundary.
        const stop = session.run(SLICE, first ? { resume: true } : {});
        this.options.flushOutput?.();
        switch (stop.reason) {
          case 'breakpoint':
            return this.setStop({ signal: SIGTRAP });
          case 'watchpoint':
            return this.watchStop(stop, true);
          case 'power': {
            const p = stop.power;
            message(
              `rewind: the guest powered off (${p.kind}${p.kind === 'fail' ? ` ${p.code}` : ''}) at position ${session.position}`,
            );
            return this.setStop({ signal: SIGTRAP, extra: 'replaylog:end;' });
          }
          case 'waiting':
            message(
              `rewind: the guest is ${stop.asleep ? 'waiting' : 'polling'} for input at position ${session.position} (monitor type TEXT gives it some)`,
            );
            return this.setStop({ signal: SIGTRAP });
          case 'limit':
            break;
        }
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      this.running = false;
      this.interrupted = false;
    }
  }

  /**
   * A watchpoint stop. gdb treats RISC-V watchpoints as firing before the
   * store completes (gdbarch have_nonsteppable_watchpoint) and steps once in
   * the direction of travel to complete it. So a forward stop is reported
   * one step before the store (gdb's step then executes it), and a reverse
   * stop just after it (gdb's reverse step then undoes it): either way gdb
   * ends at the store with the old and new values right.
   */
  private watchStop(stop: Extract<Stop, { reason: 'watchpoint' }>, forward: boolean): StopInfo {
    const written = stop.address >>> 0;
    if (forward && this.session.position > 0) this.session.stepBack(1);
    let reported = written;
    const kind = stop.kind ?? 'write';
    for (const w of this.watchpoints.values()) {
      if ((w.kind ?? 'write') === kind && written < w.address + w.length && written + 8 > w.address) {
        reported = Math.max(written, w.address);
        break;
      }
    }
    const name = kind === 'read' ? 'rwatch' : kind === 'access' ? 'awatch' : 'watch';
    return this.setStop({ signal: SIGTRAP, extra: `${name}:${(reported >>> 0).toString(16)};` });
  }

  private reverseStep(): StopInfo {
    if (this.session.position === 0) return this.setStop({ signal: SIGTRAP, extra: 'replaylog:begin;' });
    this.session.stepBack(1);
    return this.setStop({ signal: SIGTRAP });
  }

  private reverseContinue(): StopInfo {
    const session = this.session;
    if (session.position === 0) return this.setStop({ signal: SIGTRAP, extra: 'replaylog:begin;' });
    // Session.reverseContinue looks at hits strictly before now, but going backwards the first
    // change to a watched variable can be the store that was the very last step: look at it first.
    if (this.watchpoints.size > 0) {
      const origin = session.position;
      session.stepBack(1);
      const r = session.run(1, { resume: true });
      if (r.reason === 'watchpoint' && session.position === origin) return this.watchStop(r, false);
      if (session.position !== origin) session.seek({ position: origin });
    }
    const stop = session.reverseContinue();
    if (stop === null) return this.setStop({ signal: SIGTRAP, extra: 'replaylog:begin;' });
    if (stop.reason === 'watchpoint') return this.watchStop(stop, false);
    return this.setStop({ signal: SIGTRAP });
  }

  private setStop(stop: StopInfo): StopInfo {
    this.lastStop = stop;
    return stop;
  }

  private stopReply(stop: StopInfo): string {
    const sig = stop.signal.toString(16).padStart(2, '0');
    const pc = `${PC_REGNUM.toString(16)}:${word32(this.session.machine.cpu.pcValue)};`;
    return `T${sig}${pc}thread:1;${stop.extra ?? ''}`;
  }

  // ---- queries ----

  private async query(packet: string, channel: Channel): Promise<void> {
    const send = (d: string) => channel.send(d);
    if (packet.startsWith('qSupported')) {
      return send(
        `PacketSize=${MAX_PACKET.toString(16)};qXfer:features:read+;ReverseStep+;ReverseContinue+;QStartNoAckMode+`,
      );
    }
    if (packet === 'QStartNoAckMode') {
      send('OK');
      (channel as Channel & { noAck?: () => void }).noAck?.();
      return;
    }
    if (packet.startsWith('qXfer:features:read:'))
      return send(this.features(packet.slice('qXfer:features:read:'.length)));
    if (packet === 'qC') return send('QC1');
    if (packet === 'qfThreadInfo') return send('m1');
    if (packet === 'qsThreadInfo') return send('l');
    if (packet === 'qAttached' || packet.startsWith('qAttached:')) return send('1');
    if (packet.startsWith('qThreadExtraInfo,'))
      return send(toHex(Buffer.from(`branch ${this.branchName()} position ${this.session.position}`)));
    if (packet.startsWith('qRcmd,')) {
      const bytes = fromHex(packet.slice(6));
      if (!bytes) return send('E01');
      const out = (text: string) => send('O' + toHex(Buffer.from(text)));
      const ok = await runMonitor(Buffer.from(bytes).toString('utf8'), {
        session: this.session,
        out,
        save: this.options.save,
        savePath: this.options.savePath,
        type: (b) => this.typeInput(b),
      });
      return send(ok ? 'OK' : 'E01');
    }
    return send('');
  }

  private features(args: string): string {
    const m = /^([^:]+):([0-9a-fA-F]+),([0-9a-fA-F]+)$/.exec(args);
    if (!m) return 'E00';
    if (m[1] !== 'target.xml') return 'E00';
    const offset = parseHexNumber(m[2]!);
    const length = parseHexNumber(m[3]!);
    if (offset === null || length === null) return 'E00';
    const doc = targetXml();
    if (offset > doc.length) return 'E00';
    const chunk = doc.slice(offset, offset + Math.min(length, MAX_PACKET - 16));
    return (offset + chunk.length >= doc.length ? 'l' : 'm') + chunk;
  }

  private branchName(): string {
    return this.session.branchName;
  }
}
