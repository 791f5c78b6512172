/**
 * The web app's entry: starts the host with its first VM (a machine
 * worker), mounts the UI and opens the bundled default guest (or the one
 * named by `?guest=URL`, or by `?guest=ID` for a guest of ours: linux,
 * hello, echo…; see guests.ts). `?executor=jit|interp` picks the executor
 * loads ask for.
 */
import '@xterm/xterm/css/xterm.css';
import './app.css';
import { mount } from 'svelte';
import defaultGuestUrl from '../../guests/build/default.elf?url';
import type { AppState } from '../../ui/app.svelte.js';
import { HostState, type HostedVm } from '../../ui/host.svelte.js';
import type { LibraryState } from '../../ui/library.svelte.js';
import { openBrowserLibrary } from '../../ui/library.svelte.js';
import Root from '../../ui/Root.svelte';
import { MachineClient } from './client.js';
import { isGuestId, openGuest, openProgramUrl } from './guests.js';
import { decodeShare } from './share.js';

/**
 * Whether the machine records (time travel) unless the URL says `?record=0|1`.
 * On: a recording is also what the library saves.
 */
const RECORD_BY_DEFAULT = true;

// The first VM's worker boots while the library opens.
const first = MachineClient.spawn('rewind-vm-1');
// The library of saved VMs: a reload, or a deep link (?vm=ID&branch=B&at=N), reopens a saved VM instead of the default guest.
const { library: store, warning } = await openBrowserLibrary();
const host = new HostState(
  {
    spawn: (name) => MachineClient.spawn(name),
    library: store,
    url: { href: () => location.href, replace: (u) => history.replaceState(history.state, '', u) },
  },
  first,
);
const { app, library, share } = host.focused;
const params = new URLSearchParams(location.search);
const recordParam = params.get('record');
app.record = recordParam === null ? RECORD_BY_DEFAULT : recordParam === '1' || recordParam === 'true';
const executorParam = params.get('executor');
if (executorParam === 'jit' || executorParam === 'interp') app.executor = executorParam;
const guest = params.get('guest');
const named = guest !== null && isGuestId(guest) ? guest : null;
const program =
  guest === 'none' || named
    ? undefined
    : guest
      ? { url: guest, name: guest.split('/').pop() ?? guest }
      : { url: defaultGuestUrl, name: 'default.elf' };

if (warning) app.message = warning;
const shared = decodeShareOrNot(location.hash);
// A share link opens its session; else the URL (or the last session) says what to reopen.
const start = shared ? { shared } : app.record ? await library.startPoint(params) : null;
// A link to a VM this browser lacks opens nothing: its message stays, and so does the link.
const reopen = start && 'id' in start ? start : null;

const target = document.getElementById('app')!;
target.replaceChildren();
mount(Root, { target, props: { host } });
if (program && !start) void openProgramUrl(app, program.url, program.name);
if (reopen) void library.open(reopen.id, reopen.at);
if (shared) void share.open(location.hash);
if (named) void openGuest(app, named);
void library.refresh();
// Back where the page was left: the host's other VMs come back too (paused).
if (reopen) void host.reopenRemembered(reopen.id);
addEventListener('pagehide', () => host.remember());

/** Whether the fragment is a share link (a damaged one counts: opening it says what is wrong). */
function decodeShareOrNot(fragment: string): boolean {
  try {
    return decodeShare(fragment) !== null;
  } catch {
    return true;
  }
}

// For end-to-end tests and benchmarks: the page's handle on the host, and on the focused VM's state and worker.
const focused = (): HostedVm => host.focused;
(
  globalThis as unknown as {
    rewind: { host: HostState; readonly app: AppState; readonly client: MachineClient; readonly library: LibraryState };
  }
).rewind = {
  host,
  get app() {
    return focused().app;
  },
  get client() {
    return focused().client as MachineClient;
  },
  get library() {
    return focused().library;
  },
};
