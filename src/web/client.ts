/**
 * The page's side of the worker protocol: sends commands, matches replies
 * to requests, and hands every event to listeners.
 */
import type { Command, WorkerEvent } from './protocol.js';

/** Anything that carries protocol messages (a Worker, or a fake in tests). */
export interface Port {
  postMessage(message: Command, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (e: MessageEvent<WorkerEvent>) => void): void;
  terminate?(): void;
}

type Listener = (event: WorkerEvent) => void;
/** A command without its id: the client assigns one. */
export type Request = Command extends infer C ? (C extends { id?: number } ? Omit<C, 'id'> : never) : never;

export class RequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'RequestError';
  }
}

export class MachineClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (data: unknown) => void; reject: (e: Error) => void }>();
  private readonly listeners = new Set<Listener>();

  constructor(private readonly port: Port) {
    port.addEventListener('message', (e) => this.receive(e.data));
  }

  /** Starts the machine worker (Vite bundles worker.ts for this URL). */
  static spawn(): MachineClient {
    const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'rewind-machine' });
    return new MachineClient(worker as unknown as Port);
  }

  /** Fire-and-forget. */
  send(cmd: Request, transfer?: Transferable[]): void {
    this.port.postMessage(cmd as Command, transfer);
  }

  /** Sends a command and resolves with the worker's reply data (rejects with a RequestError). */
  request<T = unknown>(cmd: Request, transfer?: Transferable[]): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (d: unknown) => void, reject });
      this.port.postMessage({ ...cmd, id } as Command, transfer);
    });
  }

  on(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  terminate(): void {
    this.port.terminate?.();
  }

  private receive(event: WorkerEvent): void {
    if (event.type === 'reply') {
      const p = this.pending.get(event.id);
      if (!p) return;
      this.pending.delete(event.id);
      if (event.ok) p.resolve(event.data);
      else p.reject(new RequestError(event.error.code, event.error.message));
      return;
    }
    for (const l of this.listeners) l(event);
  }
}
