/**
 * The stub against clients that speak the protocol badly or oddly: raw
 * packets over a socket, no gdb needed. Whatever they send, the stub keeps
 * answering.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guest, rewind, tempDir } from '../support/cli.js';
import { RawClient, startStub, type Stub } from './support.js';

const hex = (s: string) => Buffer.from(s).toString('hex');

describe('gdb stub protocol', () => {
  let stub: Stub;
  let c: RawClient;

  beforeAll(async () => {
    stub = await startStub([guest('default')]);
    c = await RawClient.connect(stub.port);
  });
  afterAll(async () => {
    c?.close();
    await stub?.stop();
  });

  it('listens on loopback and announces its features', async () => {
    expect(stub.stderr()).toMatch(/rewind: gdb stub listening on 127\.0\.0\.1:\d+/);
    const features = await c.ask('qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386');
    expect(features).toContain('PacketSize=4000');
    expect(features).toContain('qXfer:features:read+');
    expect(features).toContain('ReverseStep+');
    expect(features).toContain('ReverseContinue+');
    expect(await c.ask('?')).toMatch(/^T05/);
  });

  it('serves a target description for riscv:rv32', async () => {
    let doc = '';
    for (let off = 0; ;) {
      const r = await c.ask(`qXfer:features:read:target.xml:${off.toString(16)},200`);
      expect(r[0]).toMatch(/[ml]/);
      doc += r.slice(1);
      off += r.length - 1;
      if (r[0] === 'l') break;
    }
    expect(doc).toContain('<architecture>riscv:rv32</architecture>');
    expect(doc).toContain('org.gnu.gdb.riscv.cpu');
    expect(doc).toContain('name="mstatus"');
    expect(await c.ask('qXfer:features:read:other.xml:0,100')).toMatch(/^E/);
    expect(await c.ask('qXfer:features:read:target.xml:zz,100')).toMatch(/^E/);
  });

  it('answers a bad checksum with a nack and keeps serving', async () => {
    c.write('$g#00');
    await c.expectRaw('-');
    expect(await c.ask('?')).toMatch(/^T05/);
  });

  it('rejects an oversized packet without buffering it', async () => {
    c.write('$m' + '0'.repeat(100_000) + '#00');
    expect(await c.reply()).toBe('E01');
    expect(await c.ask('?')).toMatch(/^T05/);
  });

  it('gives empty replies to unknown packets and errors to malformed ones', async () => {
    expect(await c.ask('qNoSuchThing')).toBe('');
    expect(await c.ask('J')).toBe('');
    expect(await c.ask('vMustReplyEmpty')).toBe('');
    expect(await c.ask('Z3,80000000,4')).toBe('OK');
    expect(await c.ask('z3,80000000,4')).toBe('OK');
    for (const bad of [
      'mzz',
      'm80000000',
      'm1,2,3',
      'G12',
      'P1=zz',
      'Pzz=00000000',
      'Z9,0,0',
      'Z0,zz,4',
      'X80000000,4:ab',
      'M80000000,2:abc',
      'Hx',
      'vCont;q',
      'C',
      'p',
      'qRcmd,zz',
    ]) {
      expect(await c.ask(bad), bad).toMatch(/^E[0-9a-f]{2}$/);
    }
    expect(await c.ask('p1000')).toBe('E45');
    expect(await c.ask('m0,4')).toMatch(/^E/); // nothing mapped at 0
    expect(await c.ask('mffffffffffffffff,4')).toMatch(/^E/);
    // A huge length is clamped to what fits a packet.
    const big = await c.ask('m80000000,ffffffff');
    expect(big.length).toBeGreaterThan(0);
    expect(big.length).toBeLessThanOrEqual(0x4000);
  });

  it('reads registers and memory, and steps forwards and backwards', async () => {
    const g0 = await c.ask('g');
    expect(g0).toMatch(/^[0-9a-f]{264}$/);
    const pc0 = await c.ask('p20');
    expect(g0.slice(256)).toBe(pc0);
    expect(await c.ask('bs')).toMatch(/^T05.*replaylog:begin;/);
    expect(await c.ask('bc')).toMatch(/^T05.*replaylog:begin;/);
    for (let i = 0; i < 5; i++) expect(await c.ask('s')).toMatch(/^T05/);
    expect(await c.ask('vCont;s:1')).toMatch(/^T05/);
    expect(await c.ask('g')).not.toBe(g0);
    for (let i = 0; i < 6; i++) expect(await c.ask('bs')).toMatch(/^T05/);
    expect(await c.ask('g')).toBe(g0);
    // The priv and mstatus registers through p (numbers from the target description).
    expect(await c.ask(`p${(65 + 4096).toString(16)}`)).toBe('03000000');
    expect(await c.ask(`p${(65 + 0x301).toString(16)}`)).toBe('05111440'); // misa, little-endian
  });

  it('forks instead of rewriting history when memory or registers change in the past', async () => {
    for (let i = 0; i < 10; i++) await c.ask('s');
    await c.ask('bs');
    const before = Buffer.from(
      await (async () => {
        c.send(`qRcmd,${hex('branches')}`);
        let text = '';
        for (;;) {
          const r = await c.reply();
          if (r !== 'OK' && r.startsWith('O')) text += Buffer.from(r.slice(1), 'hex').toString();
          else return text;
        }
      })(),
    ).toString();
    expect(before.trim().split('\n')).toHaveLength(1);
    expect(await c.ask('M80001a70,4:01020304')).toBe('OK');
    expect(await c.ask('m80001a70,4')).toBe('01020304');
    expect(await c.ask('Pa=78563412')).toBe('OK');
    expect(await c.ask('pa')).toBe('78563412');
    c.send(`qRcmd,${hex('where')}`);
    const where = Buffer.from((await c.reply()).slice(1), 'hex').toString();
    expect(await c.reply()).toBe('OK');
    expect(where).toMatch(/branch fork@\d+/);
    // Writing a CSR is recorded as an event; a read-only one is refused, not faked.
    expect(await c.ask(`P${(65 + 0x340).toString(16)}=01000000`)).toBe('OK');
    expect(await c.ask(`p${(65 + 0x340).toString(16)}`)).toBe('01000000');
    expect(await c.ask(`P${(65 + 0xc00).toString(16)}=01000000`)).toBe('E01');
    // X with binary data, escapes included.
    expect(await c.ask('X80001a70,2:}\x03}]')).toBe('OK');
    expect(await c.ask('m80001a70,2')).toBe('237d');
  });

  it('survives noise, a client that disconnects mid-packet, and turns away a second client', async () => {
    c.write(Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 37 + 11) & 0xff)));
    c.write('#00');
    // Whatever the noise left half-read, a fresh packet gets through.
    await new Promise((r) => setTimeout(r, 200));
    c.send('?');
    let r = await c.reply();
    while (!r.startsWith('T')) r = await c.reply();
    const second = await RawClient.connect(stub.port);
    await new Promise((res) => setTimeout(res, 300));
    expect(second.isClosed).toBe(true);
    c.write('$m80000000,');
    c.close();
    await new Promise((res) => setTimeout(res, 300));
    c = await RawClient.connect(stub.port);
    expect(await c.ask('?')).toMatch(/^T05/);
    expect(await c.ask('QStartNoAckMode')).toBe('OK');
    expect(await c.ask('qC')).toBe('QC1');
    expect(await c.ask('D')).toBe('OK');
    c.close();
    c = await RawClient.connect(stub.port);
    expect(await c.ask('?')).toMatch(/^T05/);
    expect(stub.proc.exitCode).toBeNull();
  });

  it('stops a running continue on Ctrl-C, and kill ends the stub and saves', async () => {
    const dir = tempDir();
    const out = join(dir, 'bench.vmi');
    const s = await startStub([guest('bench-long'), '--save', out]);
    const k = await RawClient.connect(s.port);
    try {
      k.send('c');
      await new Promise((res) => setTimeout(res, 500));
      k.write('\x03');
      expect(await k.reply(20_000)).toMatch(/^T02/);
      k.send(`qRcmd,${hex('where')}`);
      const where = Buffer.from((await k.reply()).slice(1), 'hex').toString();
      expect(await k.reply()).toBe('OK');
      const position = Number(/position (\d+)/.exec(where)![1]);
      expect(position).toBeGreaterThan(0);
      k.send('k');
      expect(await s.exited()).toBe(0);
      expect(existsSync(out)).toBe(true);
      const info = JSON.parse(rewind(['info', out, '--json']).stdout);
      expect(info.branches[0].end).toBe(position);
    } finally {
      k.close();
      await s.stop();
    }
  });
});
