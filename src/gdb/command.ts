/** `rewind gdb`: serve a program or a recording to gdb over the remote serial protocol. */
import { RewindError } from '../../core/errors.js';
import { Session } from '../../session/session.js';
import { bootSpec } from '../node/boot.js';
import { readUserFile } from '../node/files.js';
import { isVmiPath, openVmi, saveVmi } from '../node/vmi-file.js';
import { numberFlag, parseArgs, stringFlag } from '../cli/args.js';
import { serveGdb } from './server.js';
import { GdbStub } from './stub.js';
import { GDB_USAGE } from '../cli/usage.js';

export async function gdbCommand(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, {
    port: 'number',
    host: 'string',
    'input-file': 'string',
    save: 'string',
    disk: 'string',
    ram: 'number',
    raw: 'boolean',
    screen: 'boolean',
  });
  if (args.positional.length !== 1) throw new RewindError('bad-argument', `usage: ${GDB_USAGE}`);
  const port = numberFlag(args, 'port') ?? 1234;
  if (port > 65535) throw new RewindError('bad-argument', `--port must be 0..65535 (got ${port})`);
  // Loopback unless another address is asked for: the stub can rewrite the guest's memory.
  const host = stringFlag(args, 'host') ?? '127.0.0.1';
  const path = args.positional[0]!;
  const inputFile = stringFlag(args, 'input-file');
  const input = inputFile ? readUserFile(inputFile, 'input file') : undefined;
  const savePath = stringFlag(args, 'save');
  let session: Session;
  if (isVmiPath(path)) {
    session = openVmi(path);
  } else {
    session = Session.create(
      bootSpec({
        program: path,
        ramMiB: numberFlag(args, 'ram'),
        disk: stringFlag(args, 'disk'),
        raw: args.flags.has('raw'),
        screen: args.flags.has('screen'),
      }),
    );
  }
  let out: number[] = [];
  const flushOutput = () => {
    if (out.length === 0) return;
    process.stdout.write(Buffer.from(out));
    out = [];
  };
  // Output the branch already produced is not printed again when a seek or a step replays it.
  session.onOutput = (byte, position) => {
    if (position < session.branchEnd()) return;
    out.push(byte);
    if (out.length >= 65536) flushOutput();
  };
  const log = (message: string) => process.stderr.write(`rewind: ${message}\n`);
  const save = async (file: string) => {
    session.checkpointHere();
    return saveVmi(session, file);
  };
  let finish: (code: number) => void = () => {};
  const finished = new Promise<number>((resolve) => (finish = resolve));
  const stub = new GdbStub(session, {
    input,
    savePath,
    save,
    flushOutput,
    log,
    onKill: () => finish(0),
  });
  let listening;
  try {
    listening = await serveGdb(stub, { host, port, log });
  } catch (e) {
    // EADDRINUSE, EACCES, EADDRNOTAVAIL...: the user's choice of address, not a bug.
    throw new RewindError(
      'bad-argument',
      `cannot listen on ${host}:${port}: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  const { server, port: actual } = listening;
  const shown = host.includes(':') ? `[${host}]` : host;
  process.stderr.write(`rewind: gdb stub listening on ${shown}:${actual}\n`);
  const onSignal = () => finish(0);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let code = await finished;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  server.close();
  flushOutput();
  try {
    if (savePath) {
      const bytes = await save(savePath);
      process.stderr.write(
        `rewind: saved ${savePath} (${bytes} bytes, branch ${session.timeline.branch(session.branch).name} at ${session.position})\n`,
      );
    }
  } catch (e) {
    process.stderr.write(`rewind: could not save ${savePath}: ${e instanceof Error ? e.message : String(e)}\n`);
    code = 1;
  }
  // A client still connected would keep the process alive.
  const status = code;
  setImmediate(() => process.exit(status));
  return status;
}
