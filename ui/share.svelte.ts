/**
 * The page's side of share links (src/web/share.ts): Share link makes one
 * of the point shown; a page opened with one finds the parts it names in the
 * site's catalogue, asks the user for a file of their own the link names
 * (and checks it by hash), then has the worker replay the session.
 */
import { catalogueParts } from '../src/web/guests.js';
import type { ShareInfo } from '../src/web/protocol.js';
import { decodeShare, encodeShare, partHash, type SharedPart, type SharedSession } from '../src/web/share.js';
import type { AppState } from './app.svelte.js';
import type { UrlPort } from './library.svelte.js';
import type { PickedFile } from './files.js';
import { messageOf } from './format.js';

/** A file a link needs that the site does not have. */
export interface NeededFile {
  part: SharedPart;
  /** The name it had where the link was made. */
  name: string;
  hash: string;
}

const PART_WORDS: Record<SharedPart, string> = { program: 'program', initrd: 'initramfs', disk: 'disk image' };

export class ShareState {
  /** The link made last (shown until closed). */
  link = $state<string | null>(null);
  /** Files the link being opened needs from the user, in order; empty when none. */
  needed = $state<NeededFile[]>([]);
  /** The session of the link being opened, until it is. */
  private pending: SharedSession | null = null;
  private parts: Partial<Record<SharedPart, Uint8Array>> = {};
  private programName = '';

  constructor(
    readonly app: AppState,
    private readonly url: UrlPort,
  ) {}

  /** Makes a link of the point shown; null (with the app's message) when it cannot. */
  async make(): Promise<string | null> {
    // The link shown so far is of another point: it goes while the new one is made, never to be copied for it.
    this.link = null;
    let info: ShareInfo;
    try {
      info = await this.app.client.request<ShareInfo>({ type: 'shareInfo' });
    } catch (e) {
      this.app.message = `Could not make a link: ${messageOf(e)}`;
      return null;
    }
    // "prog.elf + disk.img" is a program with a disk attached (see files.ts attachDiskFile).
    const [program, disk] = this.app.programName.split(' + ');
    const names: SharedSession['names'] = { program: program ?? 'program' };
    if (info.hashes.disk && disk) names.disk = disk;
    const here = new URL(this.url.href());
    this.link = `${here.origin}${here.pathname}#${encodeShare({ ...info, names })}`;
    return this.link;
  }

  /** Opens the session a URL fragment carries; false when it carries none. */
  async open(fragment: string): Promise<boolean> {
    let session: SharedSession | null;
    try {
      session = decodeShare(fragment);
    } catch (e) {
      this.app.message = messageOf(e);
      return true;
    }
    if (!session) return false;
    this.pending = session;
    let found;
    try {
      found = await catalogueParts(session);
    } catch (e) {
      this.app.message = `Could not read this site's guests: ${messageOf(e)}`;
      return true;
    }
    this.parts = { program: found.program?.bytes, initrd: found.initrd, disk: found.disk };
    this.programName = found.program?.name ?? session.names.program ?? 'program';
    this.needed = (['program', 'initrd', 'disk'] as const)
      .filter((part) => session.hashes[part] && !this.parts[part])
      .map((part) => ({ part, name: session.names[part] ?? PART_WORDS[part], hash: session.hashes[part]! }));
    if (this.needed.length === 0) await this.replay();
    return true;
  }

  /** A file the user gave for a part the link needs: checked by hash, then kept; the session opens once none is missing. */
  async provide(part: SharedPart, file: PickedFile): Promise<void> {
    const want = this.needed.find((n) => n.part === part);
    if (!want) return;
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await file.arrayBuffer());
    } catch (e) {
      this.app.message = `Could not read ${file.name}: ${messageOf(e)}`;
      return;
    }
    const hash = await partHash(bytes);
    if (hash !== want.hash) {
      this.app.message =
        `${file.name} is not the ${PART_WORDS[part]} this link was made with ` +
        `(its hash is ${hash.slice(0, 12)}…, the link names ${want.hash.slice(0, 12)}…)`;
      return;
    }
    this.app.message = null;
    this.parts[part] = bytes;
    if (part === 'program') this.programName = file.name;
    this.needed = this.needed.filter((n) => n.part !== part);
    if (this.needed.length === 0) await this.replay();
  }

  /** The worker builds the machine and replays the link's events to its point; the page then names it by the library's deep link. */
  private async replay(): Promise<void> {
    const session = this.pending;
    const image = this.parts.program;
    if (!session || !image) return;
    this.pending = null;
    try {
      await this.app.client.request({
        type: 'openShare',
        kind: session.kind,
        image,
        initrd: this.parts.initrd,
        append: session.append,
        disk: this.parts.disk,
        ramSize: session.ramSize,
        screen: session.screen,
        events: session.events,
        position: session.position,
        name: this.parts.disk && session.names.disk ? `${this.programName} + ${session.names.disk}` : this.programName,
        executor: this.app.executor,
      });
      // Opened, it is a VM of this browser's library: the address names it so (a reload reopens it, not the link).
      const url = new URL(this.url.href());
      url.hash = '';
      this.url.replace(url.href);
    } catch (e) {
      if ((e as { code?: unknown }).code !== 'superseded')
        this.app.message = `Could not open the shared session: ${messageOf(e)}`;
    }
  }
}
