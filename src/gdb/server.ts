/**
 * The TCP side of the stub: one client at a time on a listening socket;
 * bytes in go through the packet reader, replies go out framed. A client
 * that disconnects, even mid-packet, just frees the stub for the next one.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { PacketReader, framePacket, type Incoming } from './packets.js';
import type { Channel, GdbStub } from './stub.js';

export interface ServeOptions {
  host: string;
  port: number;
  log?: (message: string) => void;
}

/** Starts listening; resolves with the server and the port it got (port 0 picks a free one). */
export function serveGdb(stub: GdbStub, options: ServeOptions): Promise<{ server: Server; port: number }> {
  let active: Socket | null = null;
  const server = createServer((socket) => {
    if (active) {
      // All-stop, one session: a second debugger is turned away rather than interleaved.
      options.log?.('gdb: refused a second client while one is connected');
      socket.destroy();
      return;
    }
    active = socket;
    socket.setNoDelay(true);
    options.log?.(`gdb: client connected from ${socket.remoteAddress}:${socket.remotePort}`);
    const end = () => {
      if (active === socket) {
        active = null;
        options.log?.('gdb: client disconnected');
      }
    };
    attachConnection(stub, socket, end);
    socket.on('close', end);
    socket.on('error', () => socket.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve({ server, port: typeof address === 'object' && address ? address.port : options.port });
    });
  });
}

/** Speaks the protocol on one socket until it closes. */
function attachConnection(stub: GdbStub, socket: Socket, onEnd: () => void): void {
  const reader = new PacketReader();
  const queue: Incoming[] = [];
  let ackMode = true;
  let closed = false;
  let last: Buffer | null = null;
  let pumping = false;
  const channel: Channel & { noAck: () => void } = {
    send(data) {
      if (closed) return;
      last = framePacket(data);
      socket.write(last);
    },
    close() {
      if (closed) return;
      closed = true;
      socket.end();
      onEnd();
    },
    noAck() {
      ackMode = false;
    },
  };
  const pump = async () => {
    if (pumping) return;
    pumping = true;
    try {
      while (queue.length > 0 && !closed) {
        const item = queue.shift()!;
        await stub.receive(item, channel);
      }
    } finally {
      pumping = false;
    }
  };
  socket.on('data', (chunk: Buffer) => {
    if (closed) return;
    for (const item of reader.feed(chunk)) {
      switch (item.kind) {
        case 'interrupt':
          // Out of band: it must reach a running continue, not wait behind it.
          stub.interrupt();
          break;
        case 'ack':
          break;
        case 'nack':
          if (ackMode && last) socket.write(last);
          break;
        case 'bad-checksum':
          if (ackMode) socket.write('-');
          break;
        case 'oversized':
        case 'packet':
          if (ackMode) socket.write('+');
          queue.push(item);
          break;
      }
    }
    void pump().catch((e: unknown) => {
      logInternal(e);
      socket.destroy();
    });
  });
  socket.on('close', () => {
    // A client gone in the middle of a continue must not leave the machine running for nobody.
    if (!closed) stub.interrupt();
    closed = true;
    queue.length = 0;
    reader.reset();
  });
}

function logInternal(e: unknown): void {
  process.stderr.write(`rewind: gdb: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
}
