/**
 * `monitor` commands (qRcmd) for Rewind's own operations: where am I, seek,
 * fork, bookmarks, branches, save, and typing console input.
 */
import { RewindError } from '../../core/errors.js';
import type { Session } from '../../session/session.js';
import { checkVmiTarget } from '../node/vmi-file.js';

export interface MonitorContext {
  session: Session;
  /** Prints text on gdb's console. */
  out: (text: string) => void;
  /** Writes the session as a .vmi. */
  save?: (path: string) => Promise<number>;
  /** The path of --save, used when `save` names none. */
  savePath?: string;
  /** Adds console input for the guest. */
  type: (bytes: Uint8Array) => void;
}

export const MONITOR_HELP = `Rewind monitor commands:
  where                  branch, position and the end of the branch
  seek [BRANCH:]N        go to position N (of BRANCH, default the current one)
  fork [NAME]            start a new branch here and move onto it
  bookmark NAME          bookmark this position on the current branch
  branches               list branches, their ends and bookmarks
  save [FILE.vmi]        write the recording (default: the --save path)
  type TEXT              type TEXT into the console (\\n, \\r, \\t, \\\\ escapes)
  help                   this text
After seek, run "maintenance flush register-cache" (or stepi) so gdb rereads registers.
`;

/** Runs one command; false when it failed (its message was printed). */
export async function runMonitor(line: string, ctx: MonitorContext): Promise<boolean> {
  const { session, out } = ctx;
  const text = line.trim();
  const space = text.indexOf(' ');
  const name = space < 0 ? text : text.slice(0, space);
  const arg = space < 0 ? '' : text.slice(space + 1).trim();
  const branchName = () => session.timeline.branch(session.branch).name;
  try {
    switch (name) {
      case '':
      case 'help':
        out(MONITOR_HELP);
        return true;
      case 'where':
        out(`branch ${branchName()} (${session.branch}), position ${session.position} of ${session.branchEnd()}\n`);
        return true;
      case 'seek': {
        const m = /^(?:(.+):)?([0-9]+)$/.exec(arg);
        if (!m) throw new RewindError('bad-argument', 'usage: seek [BRANCH:]N');
        const position = Number(m[2]);
        if (!Number.isSafeInteger(position)) throw new RewindError('bad-argument', `position ${m[2]} is too large`);
        session.seek({ branch: m[1], position });
        out(`branch ${branchName()}, position ${session.position}\n`);
        return true;
      }
      case 'fork': {
        if (arg && session.branches().some((b) => b.name === arg))
          throw new RewindError('bad-argument', `a branch named "${arg}" already exists`);
        session.fork(session.position, arg || undefined);
        out(`forked branch ${branchName()} (${session.branch}) at position ${session.position}\n`);
        return true;
      }
      case 'bookmark':
        if (!arg) throw new RewindError('bad-argument', 'usage: bookmark NAME');
        session.bookmark(arg);
        out(`bookmark ${arg} at ${branchName()}:${session.position}\n`);
        return true;
      case 'branches':
        for (const b of session.branches()) {
          const marks = b.bookmarks.map((m) => `${m.name}@${m.position}`).join(' ');
          const here = b.id === session.branch ? '* ' : '  ';
          out(
            `${here}${b.name} (${b.id}) from ${b.forkPosition} to ${b.forkPosition + b.length}${marks ? `  bookmarks: ${marks}` : ''}\n`,
          );
        }
        return true;
      case 'save': {
        const path = arg || ctx.savePath;
        if (!path) throw new RewindError('bad-argument', 'usage: save FILE.vmi (no --save path was given)');
        if (!ctx.save) throw new RewindError('bad-state', 'saving is not available here');
        // The path comes over the wire: it must not be able to overwrite an arbitrary file.
        checkVmiTarget(path);
        const bytes = await ctx.save(path);
        out(`saved ${path} (${bytes} bytes)\n`);
        return true;
      }
      case 'type':
        ctx.type(Buffer.from(unescapeText(arg), 'utf8'));
        out(`typed ${arg.length} character(s); continue to let the guest read them\n`);
        return true;
      default:
        out(`unknown monitor command "${name}" (try monitor help)\n`);
        return false;
    }
  } catch (e) {
    out(`rewind: ${e instanceof Error ? e.message : String(e)}\n`);
    return false;
  }
}

function unescapeText(s: string): string {
  return s.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c === 't' ? '\t' : c));
}
