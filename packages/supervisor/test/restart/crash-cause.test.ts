import { describe, expect, it } from 'vitest';

import { crashCause, describeCause, typescriptHint } from '../../src/restart/crash-cause.js';

const uncaught = [
  '/srv/app/app.js:4',
  "if (!process.env.DATABASE_URL) throw new Error('boom: DATABASE_URL is not set');",
  '                               ^',
  '',
  'Error: boom: DATABASE_URL is not set',
  '    at Object.<anonymous> (/srv/app/app.js:4:38)',
  '    at Module._compile (node:internal/modules/cjs/loader:1521:14)',
  '',
  'Node.js v20.20.2',
];

describe('crashCause', () => {
  it("reads the error line and the app's file:line from an uncaught exception, relative to the working directory", () => {
    expect(crashCause(uncaught, '/srv/app')).toEqual({
      error: 'Error: boom: DATABASE_URL is not set',
      where: 'app.js:4',
    });
    expect(describeCause(uncaught, '/srv/app')).toBe('Error: boom: DATABASE_URL is not set (app.js:4)');
    expect(crashCause(uncaught, '/elsewhere').where).toBe('/srv/app/app.js:4');
  });

  it('takes the first frame in the app when there is no header line, skipping node_modules and node internals', () => {
    const lines = [
      'TypeError [ERR_INVALID_ARG_TYPE]: The "path" argument must be of type string',
      '    at Object.open (node:fs:573:10)',
      '    at load (/srv/app/node_modules/config/lib/config.js:80:12)',
      '    at file:///srv/app/src/boot.mjs:12:3',
    ];
    expect(describeCause(lines, '/srv/app')).toBe(
      'TypeError [ERR_INVALID_ARG_TYPE]: The "path" argument must be of type string (src/boot.mjs:12)',
    );
  });

  it('a syntax error: the header names the file, the error line follows the caret', () => {
    const lines = [
      '/srv/app/server.js:3',
      '  foo(;',
      '      ^',
      '',
      "SyntaxError: Unexpected token ';'",
      '    at internalCompileFunction (node:internal/vm:76:18)',
    ];
    expect(describeCause(lines, '/srv/app')).toBe("SyntaxError: Unexpected token ';' (server.js:3)");
  });

  it('nothing that looks like an error gives null', () => {
    expect(describeCause(['listening on 3000', 'bye'], '/srv')).toBeNull();
  });
});

describe('typescriptHint', () => {
  const failed = ['TypeError [ERR_UNKNOWN_FILE_EXTENSION]: Unknown file extension ".ts" for /srv/app/server.ts'];
  it('names the loader for a .ts script that node could not run', () => {
    expect(typescriptHint('/srv/app/server.ts', [], failed)).toMatch(
      /^server\.ts is TypeScript and node ran it without a loader: add --node-args "--import tsx"/,
    );
  });
  it('says nothing when a loader is there, or for JavaScript', () => {
    expect(typescriptHint('/srv/app/server.ts', ['--import', 'tsx'], failed)).toBeNull();
    expect(typescriptHint('/srv/app/server.js', [], failed)).toBeNull();
  });
});
