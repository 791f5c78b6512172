/**
 * The web app's entry: starts the machine worker, mounts the UI and opens
 * the bundled default guest (or the one named by `?guest=URL`).
 */
import '@xterm/xterm/css/xterm.css';
import './app.css';
import { mount } from 'svelte';
import defaultGuestUrl from '../../guests/build/default.elf?url';
import App from '../../ui/App.svelte';
import { AppState } from '../../ui/app.svelte.js';
import { MachineClient } from './client.js';

/**
 * Whether the machine records (time travel) unless the URL says `?record=0|1`.
 * Off until the lead turns it on: recording goes through session/'s Session.
 */
const RECORD_BY_DEFAULT = false;

const client = MachineClient.spawn();
const app = new AppState(client);
const params = new URLSearchParams(location.search);
const recordParam = params.get('record');
app.record = recordParam === null ? RECORD_BY_DEFAULT : recordParam === '1' || recordParam === 'true';
const guest = params.get('guest');
const program = guest === 'none' ? undefined : guest ? { url: guest, name: guest.split('/').pop() ?? guest } : { url: defaultGuestUrl, name: 'default.elf' };

mount(App, { target: document.getElementById('app')!, props: { app, program } });

// For end-to-end tests and benchmarks: the page's handle on the worker.
(globalThis as unknown as { rewind: { app: AppState; client: MachineClient } }).rewind = { app, client };
