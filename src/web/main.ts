/**
 * The web app's entry: starts the machine worker, mounts the UI and opens
 * the bundled default guest (or the one named by `?guest=URL`, or by
 * `?guest=ID` for a guest of ours: linux, hello, echo…; see guests.ts).
 * `?executor=jit|interp` picks the executor loads ask for.
 */
import '@xterm/xterm/css/xterm.css';
import './app.css';
import { mount } from 'svelte';
import defaultGuestUrl from '../../guests/build/default.elf?url';
import App from '../../ui/App.svelte';
import { AppState } from '../../ui/app.svelte.js';
import { LibraryState, openBrowserLibrary } from '../../ui/library.svelte.js';
import { MachineClient } from './client.js';
import { isGuestId, openGuest } from './guests.js';
import { decodeShare } from './share.js';
import { ShareState } from '../../ui/share.svelte.js';

/**
 * Whether the machine records (time travel) unless the URL says `?record=0|1`.
 * On: a recording is also what the library saves.
 */
const RECORD_BY_DEFAULT = true;

const client = MachineClient.spawn();
const app = new AppState(client);
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

// The library of saved VMs: a reload, or a deep link (?vm=ID&branch=B&at=N), reopens a saved VM instead of the default guest.
const { library: store, warning } = await openBrowserLibrary();
const library = new LibraryState(app, store);
if (warning) app.message = warning;
const share = new ShareState(app, {
  href: () => location.href,
  replace: (u) => history.replaceState(history.state, '', u),
});
const shared = decodeShareOrNot(location.hash);
// A share link opens its session; else the URL (or the last session) says what to reopen.
const start = shared ? { shared } : app.record ? await library.startPoint(params) : null;
// A link to a VM this browser lacks opens nothing: its message stays, and so does the link.
const reopen = start && 'id' in start ? start : null;

const target = document.getElementById('app')!;
target.replaceChildren();
mount(App, { target, props: { app, program: start ? undefined : program, library, share } });
if (reopen) void library.open(reopen.id, reopen.at);
if (shared) void share.open(location.hash);
if (named) void openGuest(app, named);
void library.refresh();

/** Whether the fragment is a share link (a damaged one counts: opening it says what is wrong). */
function decodeShareOrNot(fragment: string): boolean {
  try {
    return decodeShare(fragment) !== null;
  } catch {
    return true;
  }
}

// For end-to-end tests and benchmarks: the page's handle on the worker.
(globalThis as unknown as { rewind: { app: AppState; client: MachineClient; library: LibraryState } }).rewind = {
  app,
  client,
  library,
};
