// Shared by the web tests: the guests' ELFs, the worker's engine driven in
// Node, a fake worker client for the page's state, mounting components, and
// the keyboard shortcuts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { flushSync, mount, unmount, type Component } from 'svelte';
import { Engine, type EngineOptions } from '../../src/web/engine.js';
import { MachineHost } from '../../src/web/host.js';
import type { Request } from '../../src/web/client.js';
import type { Command, WorkerEvent } from '../../src/web/protocol.js';
import type { ClientLike } from '../../ui/app.svelte.js';
import { shortcutFor } from '../../ui/shortcuts.js';

// By path from the project root (where vitest runs): under happy-dom, import.meta.url is not a file URL.
export const guest = (name: string) => new Uint8Array(readFileSync(join(process.cwd(), 'guests/build', `${name}.elf`)));

/** The hosts the worker uses when it records: a session for a recorded load, a .vmi opened as one. */
export const recordingHosts: Pick<EngineOptions, 'createHost' | 'openVmi'> = {
  createHost: (spec, record, budget) => MachineHost.create(spec, record, budget),
  openVmi: (bytes, executor, budget) => MachineHost.open(bytes, executor, budget),
};

/** The worker's engine without a Worker: what it posts is kept in `events`; requests get ids as the client gives them. */
export function engineHarness(options: Omit<EngineOptions, 'post'>) {
  const events: WorkerEvent[] = [];
  const engine = new Engine({ ...options, post: (e) => events.push(e) });
  let nextId = 1;
  /** Sends a request and returns its id (a long job replies later). */
  const send = (cmd: Request): number => {
    const id = nextId++;
    engine.handle({ ...cmd, id } as Command);
    return id;
  };
  const replyTo = (id: number) =>
    events.find((e): e is Extract<WorkerEvent, { type: 'reply' }> => e.type === 'reply' && e.id === id);
  /** Sends a request that answers at once: its data, or its error thrown with its code. */
  const reply = (cmd: Request): unknown => {
    const r = replyTo(send(cmd));
    if (!r) throw new Error('no reply');
    if (!r.ok) throw Object.assign(new Error(r.error.message), { code: r.error.code });
    return r.data;
  };
  const last = <T extends WorkerEvent['type']>(type: T) =>
    events.filter((e): e is Extract<WorkerEvent, { type: T }> => e.type === type).pop();
  return { engine, events, send, replyTo, reply, last, lastStatus: () => last('status')!.status };
}

/** A client that records what the UI sends and answers requests from a table (an answer may throw to fail). */
export class FakeClient implements ClientLike {
  sent: Command[] = [];
  listeners: ((e: WorkerEvent) => void)[] = [];
  answers: Partial<Record<Command['type'], (cmd: Command) => unknown>> = {};
  /** `unanswered` settles a request the table has no answer for: by default it resolves with nothing. */
  constructor(private readonly unanswered: (cmd: Command) => Promise<unknown> = () => Promise.resolve(undefined)) {}
  send(cmd: Omit<Command, 'id'>): void {
    this.sent.push(cmd as Command);
  }
  request<T>(cmd: Omit<Command, 'id'>): Promise<T> {
    this.sent.push(cmd as Command);
    const answer = this.answers[cmd.type as Command['type']];
    if (!answer) return this.unanswered(cmd as Command) as Promise<T>;
    try {
      return Promise.resolve(answer(cmd as Command) as T);
    } catch (e) {
      return Promise.reject(e);
    }
  }
  on(listener: (e: WorkerEvent) => void): () => boolean {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
      return true;
    };
  }
  /** Delivers a worker event and lets the UI update. */
  emit(e: WorkerEvent): void {
    for (const l of this.listeners) l(e);
    flushSync();
  }
}

let mounted: Record<string, unknown>[] = [];

/** Mounts `component` in a fresh element of the document; `unmountAll` (after each test) takes it away. */
export function render<Props extends Record<string, unknown>>(component: Component<Props>, props: Props): HTMLElement {
  const target = document.createElement('div');
  document.body.appendChild(target);
  mounted.push(mount(component, { target, props }));
  flushSync();
  return target;
}

export function unmountAll(): void {
  for (const m of mounted) void unmount(m);
  mounted = [];
  document.body.innerHTML = '';
}

/** The action a key (with Shift or without, no other modifier) is the shortcut for. */
export const shortcutOfKey = (key: string, shiftKey = false) =>
  shortcutFor({ key, shiftKey, ctrlKey: false, altKey: false, metaKey: false });
