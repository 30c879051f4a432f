/**
 * Every kind of connection a drain tells apart: the one table that the drain engine, its stats, the protocol's
 * DrainStats, the master's exit report and its /metrics read. A new kind is a new row here; the places that
 * must act on it (the engine's per-kind begin step) are typed by these keys and do not compile without it.
 *
 * - `accepted`: a kind a server accepts (kindOf in drain/connections.ts); the others are HTTP/1 sockets told
 *   apart once upgraded.
 * - `longLived`: a close during the drain counts as a long-lived connection closed, not a finished one.
 * - `appCloses`: only the app knows its protocol, so only its drain hooks can close it cleanly: when one was
 *   forced, the exit report says so.
 * - `label`: how the exit report names it.
 */
export const DRAIN_KINDS = {
  /** HTTP/1.x: closed when its last response ends, or by the idle rule. */
  http: { accepted: true, longLived: false, appCloses: false, label: 'http' },
  /** An upgraded HTTP/1 socket with `Upgrade: websocket`: the engine sends its close frame. */
  websocket: { accepted: false, longLived: true, appCloses: false, label: 'websocket' },
  /** Another upgraded HTTP/1 socket. */
  upgraded: { accepted: false, longLived: true, appCloses: true, label: 'upgraded (not WebSocket)' },
  /** An HTTP/2 session: closed with a two-step GOAWAY. */
  http2: { accepted: true, longLived: true, appCloses: false, label: 'http2' },
  /** A plain `net` server's socket. */
  raw: { accepted: true, longLived: true, appCloses: true, label: 'raw' },
} as const satisfies Record<string, DrainKindInfo>;

export interface DrainKindInfo {
  accepted: boolean;
  longLived: boolean;
  appCloses: boolean;
  label: string;
}

/** What a drain reports as forced: a connection's kind, with upgraded HTTP/1 sockets told apart. */
export type DrainKind = keyof typeof DRAIN_KINDS;

/** What a server accepts: the kinds whose row says `accepted`. */
export type ConnectionKind = {
  [K in DrainKind]: (typeof DRAIN_KINDS)[K]['accepted'] extends true ? K : never;
}[DrainKind];

/** Every kind, in the table's order (the order reports list them in). */
export const DRAIN_KIND_NAMES = Object.keys(DRAIN_KINDS) as DrainKind[];

/** A count for every kind. */
export type DrainKindCounts = Record<DrainKind, number>;

export function zeroCounts(): DrainKindCounts {
  const counts = {} as DrainKindCounts;
  for (const kind of DRAIN_KIND_NAMES) counts[kind] = 0;
  return counts;
}
