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

  /** Why the worker crashed, once it has (it is terminated then); null while it is alive. */
  crashed: string | null = null;
  private readonly crashListeners = new Set<(reason: string) => void>();

  /** Starts a machine worker (Vite bundles worker.ts for this URL); `name` shows in the browser's devtools. */
  static spawn(name = 'rewind-machine'): MachineClient {
    const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name });
    const client = new MachineClient(worker as unknown as Port);
    // Handled here, so that one VM's failure is its own news and not an error of the page.
    worker.addEventListener('error', (e) => {
      e.preventDefault();
      client.crash(e.message || 'its worker failed');
    });
    worker.addEventListener('messageerror', () => client.crash('a message from its worker could not be read'));
    return client;
  }

  /**
   * Ends a worker that can no longer be trusted (an uncaught error leaves
   * its machine half-way through whatever it did): terminates it, fails the
   * requests waiting for it, and tells the crash listeners once.
   */
  crash(reason: string): void {
    if (this.crashed !== null) return;
    this.crashed = reason;
    this.end(new RequestError('crashed', `the VM crashed: ${reason}`));
    for (const l of this.crashListeners) l(reason);
  }

  onCrash(listener: (reason: string) => void): () => void {
    this.crashListeners.add(listener);
    return () => this.crashListeners.delete(listener);
  }

  /** Fire-and-forget. */
  send(cmd: Request, transfer?: Transferable[]): void {
    this.port.postMessage(cmd as Command, transfer);
  }

  /** Sends a command and resolves with the worker's reply data (rejects with a RequestError). */
  request<T = unknown>(cmd: Request, transfer?: Transferable[]): Promise<T> {
    if (this.crashed !== null) return Promise.reject(new RequestError('crashed', `the VM crashed: ${this.crashed}`));
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

  /** Ends the worker; requests still waiting for it fail with the code `stopped`. */
  terminate(): void {
    this.end(new RequestError('stopped', 'the VM was stopped'));
  }

  private end(error: RequestError): void {
    this.port.terminate?.();
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
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
