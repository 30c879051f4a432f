import { afterEach, describe, expect, it, vi } from 'vitest';

import { type Channel, type MasterMessage, PROTOCOL_VERSION, Requests } from '../src/protocol';

/** A channel that records what is sent, and can be closed or made to fail a send. */
function fakeChannel() {
  const sent: { message: unknown; handle: unknown; options: unknown; done: (err: Error | null) => void }[] = [];
  const channel: Channel & { open: boolean; sent: typeof sent } = {
    open: true,
    sent,
    isConnected() {
      return this.open;
    },
    send(message, handle, options, done) {
      sent.push({ message, handle, options, done: done ?? (() => {}) });
      return true;
    },
    on() {
      return channel;
    },
  };
  return channel;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('Requests: one correlation by id for both sides', () => {
  it('sends each request with a fresh id and settles each with its own answer, in any order', async () => {
    const channel = fakeChannel();
    const requests = new Requests<boolean>(false);
    const a = requests.send<MasterMessage>(channel, { type: 'connection', head: '' }, { handle: 'socket-a' });
    const b = requests.send<MasterMessage>(channel, { type: 'connection', head: 'R0VU' });
    expect(channel.sent.map((s) => s.message)).toEqual([
      { $supervise: PROTOCOL_VERSION, type: 'connection', head: '', id: 1 },
      { $supervise: PROTOCOL_VERSION, type: 'connection', head: 'R0VU', id: 2 },
    ]);
    expect(channel.sent[0]?.handle).toBe('socket-a');
    expect(requests.size).toBe(2);
    requests.answer(2, true);
    requests.answer(1, false);
    expect(await Promise.all([a, b])).toEqual([false, true]);
    expect(requests.size).toBe(0);
  });

  it('ignores an answer nobody waits for (late, repeated or never asked)', async () => {
    const channel = fakeChannel();
    const requests = new Requests<string | null>(null);
    const a = requests.send<MasterMessage>(channel, { type: 'metrics' });
    requests.answer(7, 'stray');
    requests.answer(1, 'first');
    requests.answer(1, 'second');
    expect(await a).toBe('first');
  });

  it('settles with the fallback when the deadline passes, and a late answer changes nothing', async () => {
    vi.useFakeTimers();
    const channel = fakeChannel();
    const requests = new Requests<unknown[] | null>(null);
    const slow = requests.send<MasterMessage>(channel, { type: 'metrics' }, { timeoutMs: 500 });
    const quick = requests.send<MasterMessage>(channel, { type: 'metrics' }, { timeoutMs: 500 });
    requests.answer(2, [{ name: 'up' }]);
    vi.advanceTimersByTime(499);
    expect(requests.size).toBe(1);
    vi.advanceTimersByTime(1);
    expect(await slow).toBeNull();
    expect(await quick).toEqual([{ name: 'up' }]);
    requests.answer(1, [{ name: 'late' }]);
    expect(requests.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('settles with the fallback when the channel is closed or the send fails', async () => {
    const channel = fakeChannel();
    const requests = new Requests<boolean>(false);
    channel.open = false;
    expect(await requests.send<MasterMessage>(channel, { type: 'connection', head: '' })).toBe(false);
    expect(channel.sent).toHaveLength(0);
    channel.open = true;
    const failing = requests.send<MasterMessage>(channel, { type: 'connection', head: '' });
    channel.sent[0]?.done(new Error('EPIPE'));
    expect(await failing).toBe(false);
    expect(requests.size).toBe(0);
  });

  it('cancelAll: the other side is gone, every pending request gets the fallback', async () => {
    vi.useFakeTimers();
    const channel = fakeChannel();
    const requests = new Requests<boolean>(false);
    const pending = [1, 2, 3].map(() =>
      requests.send<MasterMessage>(channel, { type: 'connection', head: '' }, { timeoutMs: 60_000 }),
    );
    requests.cancelAll();
    expect(await Promise.all(pending)).toEqual([false, false, false]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
