/**
 * The machine's Web Worker: a thin adapter between postMessage and the
 * Engine. Slices yield through a MessageChannel (setTimeout(0) is clamped
 * to 4 ms after a few nested calls; a channel message is not), and every
 * YIELD_MS through setTimeout(0): Chromium runs channel messages ahead of
 * the page's postMessage, so a loop on the channel alone delays commands
 * by hundreds of milliseconds (measured: 60–315 ms round trips; with the
 * timer every 25 ms, a few ms).
 */
/// <reference lib="webworker" />
import { Engine } from './engine.js';
import type { Command, WorkerEvent } from './protocol.js';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const channel = new MessageChannel();
const queue: (() => void)[] = [];
channel.port1.onmessage = () => queue.shift()?.();
const YIELD_MS = 25;
let lastTimer = performance.now();

const engine = new Engine({
  post: (event: WorkerEvent, transfer?: Transferable[]) => scope.postMessage(event, transfer ?? []),
  defer: (fn) => {
    const now = performance.now();
    if (now - lastTimer >= YIELD_MS) {
      lastTimer = now;
      setTimeout(fn, 0);
      return;
    }
    queue.push(fn);
    channel.port2.postMessage(0);
  },
});

scope.onmessage = (e: MessageEvent<Command>) => engine.handle(e.data);
scope.postMessage({ type: 'ready', capabilities: engine.capabilities } satisfies WorkerEvent);
