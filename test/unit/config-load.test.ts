import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyOverrides, loadConfigFile, parseConfigText } from '../../config/load.js';
import { ConfigError, type GatewayConfig } from '../../config/schema.js';

function configErrorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const MINIMAL = 'sites:\n  - https://example.com\n';

const FULL = `
server:
  host: 0.0.0.0
  port: 9000
publicUrl: https://cobrowse.example.com
sessions:
  idleTimeout: 45s
  maxSessions: 5
  maxParticipants: 4
sites:
  - url: https://example.com
    name: Example Domain
  - url: https://*.example.org
demo:
  enabled: true
  port: 7000
`;

describe('parseConfigText', () => {
  it('reads a minimal file with defaults', () => {
    const config = parseConfigText(MINIMAL, 'min.yaml');
    expect(config.server).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(config.publicUrl).toBeNull();
    expect(config.sessions).toEqual({ idleTimeoutSeconds: 1800, hostGracePeriodSeconds: 15, maxSessions: 1000, maxParticipants: 50 });
    expect(config.sites.map((s) => s.url)).toEqual(['https://example.com']);
    expect(config.demo).toEqual({ enabled: false, port: 0 });
  });

  it('reads a full file', () => {
    const config = parseConfigText(FULL, 'full.yaml');
    expect(config.server).toEqual({ host: '0.0.0.0', port: 9000 });
    expect(config.publicUrl).toBe('https://cobrowse.example.com');
    expect(config.sessions).toEqual({ idleTimeoutSeconds: 45, hostGracePeriodSeconds: 15, maxSessions: 5, maxParticipants: 4 });
    expect(config.sites.map((s) => [s.url, s.name])).toEqual([
      ['https://example.com', 'Example Domain'],
      ['https://*.example.org', 'https://*.example.org'],
    ]);
    expect(config.demo).toEqual({ enabled: true, port: 7000 });
  });

  it('reads a file with only comments as empty, which has nothing to proxy', () => {
    const error = configErrorOf(() => parseConfigText('# nothing here\n', 'empty.yaml'));
    expect(error.problems.map((p) => p.path)).toEqual(['sites']);
  });

  it.each<[string, string, string]>([
    ['unknown top-level key', 'sitez:\n  - https://a.com\ndemo:\n  enabled: true\n', 'sitez'],
    ['unknown server key', `${MINIMAL}server:\n  prot: 80\n`, 'server.prot'],
    ['bad port', `${MINIMAL}server:\n  port: eighty\n`, 'server.port'],
    ['quoted port', `${MINIMAL}server:\n  port: "8080"\n`, 'server.port'],
    ['bad idle timeout', `${MINIMAL}sessions:\n  idleTimeout: forever\n`, 'sessions.idleTimeout'],
    ['publicUrl with a path', `${MINIMAL}publicUrl: http://localhost:8080/x\n`, 'publicUrl'],
    ['second site invalid', 'sites:\n  - https://a.com\n  - url: https://b.com/path\n', 'sites[1].url'],
    ['demo.enabled as a word', `${MINIMAL}demo:\n  enabled: sometimes\n`, 'demo.enabled'],
  ])('%s is reported under %s', (_what, text, path) => {
    const error = configErrorOf(() => parseConfigText(text, 'gw.yaml'));
    expect(error.source).toBe('gw.yaml');
    expect(error.problems.map((p) => p.path)).toEqual([path]);
    expect(error.message).toContain(`gw.yaml: ${path}: `);
  });

  it('reports several problems at once', () => {
    const text = 'sitez: []\nserver:\n  port: -3\nsessions:\n  idleTimeout: x\nsites:\n  - https://ok.com\n  - https://bad.com/?q\n';
    const error = configErrorOf(() => parseConfigText(text, 'gw.yaml'));
    expect(error.problems.map((p) => p.path).sort()).toEqual(['server.port', 'sessions.idleTimeout', 'sites[1].url', 'sitez']);
  });

  it('reports a YAML syntax error with its line', () => {
    const text = 'sites:\n  - https://a.com\nserver:\n  port: [8080\n';
    const error = configErrorOf(() => parseConfigText(text, 'broken.yaml'));
    expect(error.problems.length).toBeGreaterThan(0);
    expect(error.problems[0]?.path).toMatch(/^line \d+, column \d+$/);
    expect(error.message).toMatch(/^broken\.yaml: line \d+/);
  });

  it('reports the line of a bad indentation', () => {
    const text = 'sites:\n  - https://a.com\nserver:\n  host: a\n port: 1\n';
    const error = configErrorOf(() => parseConfigText(text, 'indent.yaml'));
    expect(error.problems[0]?.path).toMatch(/^line 5, column \d+$/);
  });

  it('refuses duplicate keys and says where', () => {
    const text = 'sites:\n  - https://a.com\nserver:\n  port: 1\n  port: 2\n';
    const error = configErrorOf(() => parseConfigText(text, 'dup.yaml'));
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]?.path).toMatch(/^line 5, column \d+$/);
    expect(error.problems[0]?.message.toLowerCase()).toContain('unique');
  });

  it('refuses duplicate top-level keys', () => {
    const error = configErrorOf(() => parseConfigText('sites: []\nsites:\n  - https://a.com\n', 'dup.yaml'));
    expect(error.problems[0]?.path).toMatch(/^line 2, column \d+$/);
  });

  it('keeps each YAML error message to one line', () => {
    const error = configErrorOf(() => parseConfigText('a: [1, 2\nb: "unterminated\n', 'x.yaml'));
    for (const p of error.problems) expect(p.message).not.toContain('\n');
  });
});

describe('loadConfigFile', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'config-load-test-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads a valid file', () => {
    const file = join(dir, 'ok.yaml');
    writeFileSync(file, FULL);
    expect(loadConfigFile(file).server.port).toBe(9000);
  });

  it('reports a missing file as "file not found"', () => {
    const file = join(dir, 'missing.yaml');
    const error = configErrorOf(() => loadConfigFile(file));
    expect(error.source).toBe(file);
    expect(error.problems).toEqual([{ path: '(file)', message: 'file not found' }]);
    expect(error.message).toContain('file not found');
  });

  it('reports a directory as unreadable, not as not found', () => {
    const error = configErrorOf(() => loadConfigFile(dir));
    expect(error.problems[0]?.path).toBe('(file)');
    expect(error.problems[0]?.message).not.toBe('file not found');
  });

  it('names the file in validation errors', () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, `${MINIMAL}server:\n  port: 70000\n`);
    const error = configErrorOf(() => loadConfigFile(file));
    expect(error.source).toBe(file);
    expect(error.message).toContain(`${file}: server.port: `);
  });
});

describe('applyOverrides', () => {
  const base: GatewayConfig = parseConfigText(MINIMAL, 'min.yaml');

  it.each<[string, { port?: number; host?: string }, NodeJS.ProcessEnv, number, string]>([
    ['nothing set', {}, {}, 8080, '127.0.0.1'],
    ['empty PORT ignored', {}, { PORT: '' }, 8080, '127.0.0.1'],
    ['PORT from the environment', {}, { PORT: '3000' }, 3000, '127.0.0.1'],
    ['PORT=0 for any free port', {}, { PORT: '0' }, 0, '127.0.0.1'],
    ['PORT=65535', {}, { PORT: '65535' }, 65535, '127.0.0.1'],
    ['--port without PORT', { port: 4000 }, {}, 4000, '127.0.0.1'],
    ['--port wins over PORT', { port: 4000 }, { PORT: '3000' }, 4000, '127.0.0.1'],
    ['--port 0 wins over PORT', { port: 0 }, { PORT: '3000' }, 0, '127.0.0.1'],
    ['--host', { host: '0.0.0.0' }, {}, 8080, '0.0.0.0'],
    ['--host and --port and PORT', { host: '::', port: 1 }, { PORT: '2' }, 1, '::'],
  ])('%s', (_what, overrides, env, port, host) => {
    expect(applyOverrides(base, overrides, env).server).toEqual({ host, port });
  });

  it('does not change the config it is given', () => {
    const before = structuredClone(base);
    applyOverrides(base, { port: 1, host: 'h' }, { PORT: '2' });
    expect(base).toEqual(before);
  });

  it('keeps the rest of the config', () => {
    const out = applyOverrides(base, { port: 1 }, {});
    expect(out.sites).toBe(base.sites);
    expect(out.sessions).toEqual(base.sessions);
  });

  it.each(['abc', '-1', '65536', '70000', '80.5', '8080abc', ' ', '0x1f90', '1e3'])('refuses PORT=%j as not a decimal port number', (value) => {
    const error = configErrorOf(() => applyOverrides(base, {}, { PORT: value }));
    expect(error.source).toBe('environment');
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]?.path).toBe('PORT');
    expect(error.problems[0]?.message).toContain(JSON.stringify(value));
  });

  it("takes REDIS_URL over the file, and keeps the file's when it is empty", () => {
    const withFile = { ...base, redis: 'redis://file:6379' };
    expect(applyOverrides(withFile, {}, {}).redis).toBe('redis://file:6379');
    expect(applyOverrides(withFile, {}, { REDIS_URL: '' }).redis).toBe('redis://file:6379');
    expect(applyOverrides(withFile, {}, { REDIS_URL: 'redis://env:6380/1' }).redis).toBe('redis://env:6380/1');
    expect(applyOverrides(base, {}, { REDIS_URL: 'redis://env:6380' }).redis).toBe('redis://env:6380');
  });

  it.each(['127.0.0.1:6379', 'http://cache:6379', 'redis://cache:6379/x'])('refuses REDIS_URL=%j with a clear message', (value) => {
    const error = configErrorOf(() => applyOverrides(base, {}, { REDIS_URL: value }));
    expect(error.source).toBe('environment');
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]?.path).toBe('REDIS_URL');
  });
});
