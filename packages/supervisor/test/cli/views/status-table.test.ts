import { describe, expect, it } from 'vitest';

import type { StatusReply } from '../../../src/control/reply.js';
import { formatBytes, formatDuration, formatStatus } from '../../../src/cli/views/status-table.js';

describe('status table', () => {
  it('formats durations and sizes the way a terminal reader wants them', () => {
    expect([999, 61_000, 3_600_000 * 3 + 60_000, 86_400_000 * 3].map(formatDuration)).toEqual([
      '0s',
      '1m01s',
      '3h01m',
      '3d00h',
    ]);
    expect([null, 512 * 1024, 45.46 * 1024 * 1024].map(formatBytes)).toEqual(['-', '512 KB', '45.5 MB']);
  });

  it('prints the master line, the directory as given and where it leads now, then aligned rows', () => {
    const reply: StatusReply = {
      ok: true,
      master: {
        pid: 10,
        phase: 'running',
        script: '/srv/app/current/server.js',
        cwd: '/srv/app/current',
        release: '/srv/app/releases/42',
        generation: 2,
        workers: 2,
        ready: 2,
        rollout: false,
        accept: 'shared',
        uptimeMs: 65_000,
        rssBytes: 50 * 1024 * 1024,
        node: 'v20.19.0',
      },
      workers: [
        {
          id: 1,
          slot: 0,
          pid: 11,
          generation: 2,
          state: 'ready',
          uptimeMs: 5_000,
          restarts: 0,
          requests: 10,
          inFlight: 3,
          usesSdk: true,
          release: '/srv/app/releases/42',
          node: 'v22.12.0',
          rssBytes: 40 * 1024 * 1024,
          load: null,
        },
        {
          id: 2,
          slot: 1,
          pid: 12345,
          generation: 2,
          state: 'draining',
          uptimeMs: 120_000,
          restarts: 11,
          requests: 0,
          inFlight: 0,
          usesSdk: false,
          release: '/srv/app/releases/41',
          node: null,
          rssBytes: null,
          load: null,
        },
      ],
    };
    expect(formatStatus(reply).split('\n')).toEqual([
      'master 10 running: 2/2 ready, generation 2, up 1m05s, RSS 50.0 MB, node v20.19.0',
      'script /srv/app/current/server.js, connections: shared',
      'directory /srv/app/current -> /srv/app/releases/42',
      '',
      'SLOT  PID    STATE     GEN  NODE      UPTIME  RESTARTS  RSS      IN-FLIGHT  RELEASE',
      '0     11     ready     2    v22.12.0  5s      0         40.0 MB  3          /srv/app/releases/42',
      '1     12345  draining  2    -         2m00s   11        -        0          /srv/app/releases/41',
      '',
    ]);
  });
});
