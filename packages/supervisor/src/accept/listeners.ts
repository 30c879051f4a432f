import { closeSync } from 'node:fs';
import net from 'node:net';

/**
 * The master's listening TCP sockets, for `supervise upgrade`: the running master tracks every one it opens, so
 * that it can pass them to its successor as inherited file descriptors, and a master started by an upgrade
 * (SUPERVISE_LISTEN_FDS set) listens on the inherited ones instead of binding again, which would fail
 * (EADDRINUSE) while the old master still holds the port, and refuse connections once it had let go.
 *
 * node:cluster resolves a worker's listen() in the primary through two doors, and both are wrapped here:
 * `net._createServerHandle` (SharedHandle, --accept shared) and `net.Server#listen` (RoundRobinHandle, which
 * listens through a net.Server of its own; the --sticky listener and the health endpoint too).
 */

/** One listening socket handed to a new master: its fd there, and the address it serves. */
export interface InheritedSocket {
  fd: number;
  address: string;
  port: number;
}

/** The environment variable that names the inherited sockets (JSON, InheritedSocket[]). */
export const LISTEN_FDS_ENV = 'SUPERVISE_LISTEN_FDS';

/** libuv's TCP handle, as far as this module reads it. */
interface TcpHandle {
  readonly fd: number;
  getsockname?(out: Record<string, unknown>): number;
  close(cb?: () => void): void;
}

type CreateServerHandle = (
  address: string | null,
  port: number,
  addressType: number | undefined,
  fd: number | undefined,
  flags?: number,
) => TcpHandle | number;

interface Tracked {
  handle: TcpHandle;
  /** The net.Server that owns the handle, when one still does (not RoundRobinHandle, which takes it away). */
  server: net.Server | null;
}

const tracked = new Set<Tracked>();
let inherited: InheritedSocket[] = [];
let installed = false;

function sockname(handle: TcpHandle): { address: string; port: number } | null {
  const out: Record<string, unknown> = {};
  if (typeof handle.getsockname !== 'function' || handle.getsockname(out) !== 0) return null;
  return typeof out.port === 'number' && typeof out.address === 'string'
    ? { address: out.address, port: out.port }
    : null;
}

const ANY = new Set(['', '::', '0.0.0.0']);

/**
 * Takes the inherited socket for a bind of `port` on `address`, once: the same address first, else the one on
 * that port (an app that moved from 127.0.0.1 to 0.0.0.0 would not get its port while the old master holds it).
 */
function take(address: string | null | undefined, port: number): InheritedSocket | null {
  if (!(port > 0)) return null;
  const onPort = inherited.filter((s) => s.port === port);
  const wanted = address ?? '';
  const pick =
    onPort.find((s) => s.address === wanted) ??
    onPort.find((s) => ANY.has(s.address) && ANY.has(wanted)) ??
    onPort[0] ??
    null;
  if (pick) inherited = inherited.filter((s) => s !== pick);
  return pick;
}

/** listen()'s port form (`listen(3000, host)`, `listen({ port, host })`), or null for a path, fd or handle. */
function portOf(args: unknown[]): { port: number; host: string | undefined; backlog?: number } | null {
  const [first, second] = args;
  if (typeof first === 'object' && first !== null) {
    const o = first as { port?: unknown; host?: unknown; fd?: unknown; path?: unknown; backlog?: unknown };
    if (o.fd !== undefined || o.path !== undefined || o.port === undefined) return null;
    const port = Number(o.port);
    return Number.isInteger(port)
      ? {
          port,
          host: typeof o.host === 'string' ? o.host : undefined,
          ...(typeof o.backlog === 'number' ? { backlog: o.backlog } : {}),
        }
      : null;
  }
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first)))
    return { port: Number(first), host: typeof second === 'string' ? second : undefined };
  return null;
}

/**
 * Installs the two wrappers, once, before the master opens any listener; reads (and removes from the
 * environment, so that workers and a later upgrade do not see it) the sockets this master inherited.
 */
export function trackListeners(env: NodeJS.ProcessEnv = process.env): void {
  if (installed) return;
  installed = true;
  inherited = parseInherited(env[LISTEN_FDS_ENV]);
  delete env[LISTEN_FDS_ENV];
  const netInternals = net as unknown as { _createServerHandle: CreateServerHandle };
  const create = netInternals._createServerHandle;
  netInternals._createServerHandle = (address, port, addressType, fd, flags) => {
    const own = fd === undefined || fd < 0 ? take(address, port) : null;
    // An address or a port beside an fd trips an assertion in node: the fd alone says it all.
    const handle = own ? create(null, 0, undefined, own.fd, flags) : create(address, port, addressType, fd, flags);
    if (typeof handle === 'object') tracked.add({ handle, server: null });
    return handle;
  };
  const listen = net.Server.prototype.listen as (this: net.Server, ...args: unknown[]) => net.Server;
  net.Server.prototype.listen = function (this: net.Server, ...args: unknown[]) {
    const asked = portOf(args);
    const own = asked ? take(asked.host, asked.port) : null;
    // Ahead of RoundRobinHandle's own 'listening' listener, which takes the handle away from its server.
    this.once('listening', () => {
      const handle = (this as unknown as { _handle: TcpHandle | null })._handle;
      if (handle && typeof this.address() === 'object') tracked.add({ handle, server: this });
    });
    if (!own) return listen.apply(this, args);
    const callback = args.find((a) => typeof a === 'function');
    return listen.apply(this, [{ fd: own.fd, backlog: asked?.backlog }, ...(callback ? [callback] : [])]);
  } as typeof net.Server.prototype.listen;
}

function parseInherited(text: string | undefined): InheritedSocket[] {
  if (!text) return [];
  try {
    const value = JSON.parse(text) as unknown;
    if (!Array.isArray(value)) return [];
    return value.filter(
      (s): s is InheritedSocket =>
        typeof s === 'object' &&
        s !== null &&
        Number.isInteger((s as InheritedSocket).fd) &&
        (s as InheritedSocket).fd > 2 &&
        Number.isInteger((s as InheritedSocket).port) &&
        typeof (s as InheritedSocket).address === 'string',
    );
  } catch {
    return [];
  }
}

/** The TCP sockets this master listens on now: their fds here and their addresses (closed ones drop out). */
export function liveListeners(): { fd: number; address: string; port: number }[] {
  const live = [];
  for (const t of tracked) {
    const name = t.handle.fd >= 0 ? sockname(t.handle) : null;
    if (!name) {
      tracked.delete(t);
      continue;
    }
    live.push({ fd: t.handle.fd, ...name });
  }
  return live;
}

/**
 * Closes the inherited sockets no listen() asked for (the new release no longer listens on that port), once the
 * new master serves; returns them, for the log.
 */
export function closeUnclaimed(): InheritedSocket[] {
  const left = inherited;
  inherited = [];
  for (const s of left) {
    try {
      closeSync(s.fd);
    } catch {
      // not open
    }
  }
  return left;
}

/**
 * Stops accepting on every listening socket of this master, keeping no copy: the successor's copies stay open,
 * and connections waiting in the kernel's queue are its to accept (closing one of several descriptors of a
 * socket resets nothing). A RoundRobinHandle whose handle is closed here closes it again, harmlessly, when its
 * last worker leaves.
 */
export function closeListeners(): void {
  for (const t of tracked) {
    const owner = t.server as (net.Server & { _handle: TcpHandle | null }) | null;
    if (owner && owner._handle === t.handle) owner.close();
    else if (t.handle.fd >= 0) t.handle.close();
  }
  tracked.clear();
}
