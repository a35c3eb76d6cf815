import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Keeps at most `max` connections open. Past the cap, idle connections (no request in progress:
 * parked keep-alive sockets, or sockets that never sent a byte) are closed, oldest first, so a crowd
 * of idle sockets cannot lock out a health probe; only when every connection is busy is the new one
 * refused. Sockets stalled mid-request are cut by the headers and request timeouts.
 */
export function capConnections(server: Server, max: number): void {
  // insertion order is connection order: the first idle socket found is the oldest
  const requestsInProgress = new Map<Socket, number>();
  server.on('connection', (socket: Socket) => {
    requestsInProgress.set(socket, 0);
    socket.once('close', () => requestsInProgress.delete(socket));
    if (requestsInProgress.size > max) evictIdle(requestsInProgress, socket, Math.max(1, Math.ceil(max / 10)));
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    requestsInProgress.set(socket, (requestsInProgress.get(socket) ?? 0) + 1);
    res.once('close', () => {
      const n = requestsInProgress.get(socket);
      if (n !== undefined) requestsInProgress.set(socket, n - 1);
    });
  });
}

/** Closes up to `batch` idle sockets other than the newcomer; the newcomer itself when none is idle. */
function evictIdle(requestsInProgress: Map<Socket, number>, newcomer: Socket, batch: number): void {
  let evicted = 0;
  for (const [socket, busy] of requestsInProgress) {
    if (evicted >= batch) break;
    if (socket === newcomer || busy > 0) continue;
    socket.destroy();
    evicted++;
  }
  if (evicted === 0) newcomer.destroy();
}
