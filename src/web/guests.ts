/**
 * The guests the web app offers: the bundled programs, and Linux (the server
 * or the build provides linux/manifest.json and the files it names: the
 * committed guests/linux/build/, or a local `npm run build:linux`; see
 * linux-assets.js).
 */
import defaultUrl from '../../guests/build/default.elf?url';
import echoUrl from '../../guests/build/echo.elf?url';
import benchUrl from '../../guests/build/bench-long.elf?url';
import helloUrl from '../../guests/build/hello.elf?url';
import minefieldUrl from '../../guests/build/minefield.elf?url';
import type { AppState } from '../../ui/app.svelte.js';
import { partHash, type SharedPart, type SharedSession } from './share.js';

export interface BundledGuest {
  id: string;
  label: string;
  /** The name it loads under (what the header shows). */
  file: string;
  url: string;
  /** It draws: the machine gets a screen (virtio GPU, keyboard, tablet). */
  screen?: boolean;
}

export const BUNDLED_GUESTS: readonly BundledGuest[] = [
  { id: 'default', label: 'Adventure (default)', file: 'default.elf', url: defaultUrl },
  { id: 'hello', label: 'Hello', file: 'hello.elf', url: helloUrl },
  { id: 'echo', label: 'Echo', file: 'echo.elf', url: echoUrl },
  { id: 'minefield', label: 'Minefield (screen)', file: 'minefield.elf', url: minefieldUrl, screen: true },
  // CPU-bound for about 10⁹ instructions: what a pace cap and the host's sharing are seen on.
  { id: 'bench', label: 'Benchmark (CPU-bound)', file: 'bench-long.elf', url: benchUrl },
];

export const LINUX_ID = 'linux';
const LINUX_NAME = 'Linux';
/** Linux with a screen: its framebuffer console, the keyboard feeding it. */
export const LINUX_SCREEN_ID = 'linux-screen';
const LINUX_SCREEN_NAME = 'Linux (screen)';

/** linux/manifest.json: the file names under linux/. */
export interface LinuxManifest {
  kernel: string;
  initrd?: string;
  disk?: string;
}

/** The Linux guest's manifest, or null when Linux is not there. */
export async function findLinux(): Promise<LinuxManifest | null> {
  try {
    const res = await fetch('linux/manifest.json');
    if (!res.ok) return null;
    const m = (await res.json()) as Partial<LinuxManifest> | null;
    return typeof m?.kernel === 'string' ? (m as LinuxManifest) : null;
  } catch {
    // A server without the manifest may answer with its index page: not JSON, so no Linux.
    return null;
  }
}

/** Whether `id` names a guest of ours (else a `?guest=` value is a URL). */
export function isGuestId(id: string): boolean {
  return id === LINUX_ID || id === LINUX_SCREEN_ID || BUNDLED_GUESTS.some((g) => g.id === id);
}

/** The id of the loaded guest, from the name it was loaded under, or null when it is none of ours. */
export function guestIdOf(programName: string): string | null {
  if (programName === LINUX_NAME) return LINUX_ID;
  if (programName === LINUX_SCREEN_NAME) return LINUX_SCREEN_ID;
  return BUNDLED_GUESTS.find((g) => g.file === programName)?.id ?? null;
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** Fetches a program by URL and loads it under `name`, running; a failure shows as the app's message. */
export async function openProgramUrl(app: AppState, url: string, name: string): Promise<void> {
  try {
    await app.load(await fetchBytes(url), name, true);
  } catch (e) {
    app.message = `Could not load the guest ${name}: ${e instanceof Error ? e.message : String(e)}`;
  }
}

/** The Linux guest's parts, fetched (throws when this site has none). */
export async function fetchLinux(): Promise<{ kernel: Uint8Array; initrd?: Uint8Array; disk?: Uint8Array }> {
  const m = await findLinux();
  if (!m) throw new Error('this site has no Linux guest (linux/manifest.json)');
  const file = (name: string | undefined) =>
    name === undefined ? Promise.resolve(undefined) : fetchBytes(`linux/${name}`);
  const [kernel, initrd, disk] = await Promise.all([fetchBytes(`linux/${m.kernel}`), file(m.initrd), file(m.disk)]);
  return { kernel, initrd, disk };
}

/** Fetches a guest by id and loads it, running; a failure shows as the app's message. */
export async function openGuest(app: AppState, id: string): Promise<void> {
  try {
    if (id === LINUX_ID || id === LINUX_SCREEN_ID) {
      const { kernel, initrd, disk } = await fetchLinux();
      const screen = id === LINUX_SCREEN_ID;
      await app.load(kernel, screen ? LINUX_SCREEN_NAME : LINUX_NAME, true, { disk, linux: { initrd }, screen });
      return;
    }
    const guest = BUNDLED_GUESTS.find((g) => g.id === id);
    if (!guest) throw new Error(`there is no bundled guest "${id}"`);
    await app.load(await fetchBytes(guest.url), guest.file, true, { screen: guest.screen });
  } catch (e) {
    app.message = `Could not load the guest ${id}: ${e instanceof Error ? e.message : String(e)}`;
  }
}

/** Parts of a machine found in the site's own catalogue, with the name the program loads under. */
export interface CatalogueParts {
  program?: { bytes: Uint8Array; name: string };
  initrd?: Uint8Array;
  disk?: Uint8Array;
}

/**
 * The parts a share link names that the site's own guests have (the bundled
 * programs, and Linux's kernel, initramfs and disk), fetched and checked by
 * hash. A part no guest has is left out: the user must give that file.
 */
export async function catalogueParts(session: Pick<SharedSession, 'kind' | 'hashes'>): Promise<CatalogueParts> {
  const found: CatalogueParts = {};
  const wanted = (part: SharedPart, hash: string) => session.hashes[part] === hash;
  if (session.kind === 'linux') {
    const m = await findLinux();
    if (!m) return found;
    const file = async (name: string | undefined) => (name === undefined ? undefined : fetchBytes(`linux/${name}`));
    const [kernel, initrd, disk] = await Promise.all([file(m.kernel), file(m.initrd), file(m.disk)]);
    if (kernel && wanted('program', await partHash(kernel))) found.program = { bytes: kernel, name: LINUX_NAME };
    if (initrd && wanted('initrd', await partHash(initrd))) found.initrd = initrd;
    if (disk && wanted('disk', await partHash(disk))) found.disk = disk;
    return found;
  }
  for (const g of BUNDLED_GUESTS) {
    const bytes = await fetchBytes(g.url);
    if (wanted('program', await partHash(bytes))) {
      found.program = { bytes, name: g.file };
      break;
    }
  }
  return found;
}
