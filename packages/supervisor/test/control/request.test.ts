import { describe, expect, it } from 'vitest';

import { parseControlRequest } from '../../src/control/request.js';

const refused = (line: string) => {
  try {
    parseControlRequest(line);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error(`accepted: ${line}`);
};

describe('parseControlRequest: one declared shape per command', () => {
  it('accepts what the CLI sends', () => {
    expect(parseControlRequest('{"cmd":"status"}')).toEqual({ cmd: 'status' });
    expect(parseControlRequest('{"cmd":"reload","waitDrained":true}')).toEqual({ cmd: 'reload', waitDrained: true });
    expect(parseControlRequest('{"cmd":"scale","target":"+2"}')).toEqual({ cmd: 'scale', target: '+2' });
    expect(parseControlRequest('{"cmd":"scale","target":3}')).toEqual({ cmd: 'scale', target: '3' });
  });

  it('refuses non-objects, unknown commands and wrong types, with a reason', () => {
    expect(refused('null')).toBe('bad request: expected a JSON object such as {"cmd":"status"}');
    expect(refused('[1]')).toMatch(/expected a JSON object/);
    expect(refused('"status"')).toMatch(/expected a JSON object/);
    expect(refused('{')).toBe('bad request: not JSON');
    expect(refused('{"cmd":null}')).toMatch(/unknown command \(cmd is null\)/);
    expect(refused('{"cmd":"rm -rf"}')).toMatch(/unknown command "rm -rf"; known: status, reload, stop, scale/);
    expect(refused('{"cmd":"scale","target":[1]}')).toBe('bad request: scale: target must be n, +n, -n or max');
    expect(refused('{"cmd":"scale","target":"1e3"}')).toMatch(/target must be n/);
    expect(refused('{"cmd":"scale"}')).toBe('bad request: scale: target is required');
    expect(refused('{"cmd":"reload","waitDrained":"yes"}')).toMatch(/waitDrained must be true or false/);
  });

  it('the commands for one worker: a pid or slot, a port, an absolute directory', () => {
    expect(parseControlRequest('{"cmd":"inspect","target":"1","port":0}')).toEqual({
      cmd: 'inspect',
      target: 1,
      port: 0,
    });
    expect(parseControlRequest('{"cmd":"inspect","target":4711,"close":true}')).toEqual({
      cmd: 'inspect',
      target: 4711,
      close: true,
    });
    expect(parseControlRequest('{"cmd":"report","target":0,"dir":"/var/tmp"}')).toEqual({
      cmd: 'report',
      target: 0,
      dir: '/var/tmp',
    });
    expect(refused('{"cmd":"inspect","target":-1}')).toBe(
      "bad request: inspect: target must be a worker's pid or slot",
    );
    expect(refused('{"cmd":"inspect","target":"x"}')).toMatch(/target must be a worker's pid or slot/);
    expect(refused('{"cmd":"inspect","target":1,"port":70000}')).toMatch(/port must be a port from 0 to 65535/);
    expect(refused('{"cmd":"heap-snapshot","target":1,"dir":"tmp"}')).toMatch(/dir must be an absolute path/);
    expect(refused('{"cmd":"report"}')).toBe('bad request: report: target is required');
  });

  it('treats prototype keys as the unknown fields they are', () => {
    expect(refused('{"cmd":"status","__proto__":{"cmd":"stop"}}')).toMatch(/unknown field "__proto__"/);
    expect(refused('{"cmd":"status","constructor":1}')).toMatch(/unknown field "constructor"/);
    expect(refused('{"cmd":"toString"}')).toMatch(/unknown command "toString"/);
    expect(refused('{"cmd":"__proto__"}')).toMatch(/unknown command/);
  });

  it('survives deep nesting', () => {
    expect(refused(`${'['.repeat(100_000)}${']'.repeat(100_000)}`)).toMatch(/bad request/);
    expect(refused(`{"cmd":"status","x":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`)).toMatch(/unknown field "x"/);
  });
});
