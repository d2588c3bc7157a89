import { describe, expect, it } from 'vitest';
import { ConfigError, type ConfigProblem, parseDuration, TOP_LEVEL_KEYS, validateConfig } from '../../config/schema.js';

function problemsOf(doc: unknown): ConfigProblem[] {
  try {
    validateConfig(doc, 'test.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected validateConfig to throw');
}

function pathsOf(doc: unknown): string[] {
  return problemsOf(doc).map((p) => p.path);
}

const minimal = { sites: ['https://example.com'] };

describe('parseDuration', () => {
  it.each<[unknown, number | null]>([
    ['30m', 1800],
    ['45s', 45],
    ['2h', 7200],
    ['1d', 86400],
    ['1500ms', 1.5],
    ['90', 90],
    ['1.5h', 5400],
    [' 10m ', 600],
    ['10 m', 600],
    [120, 120],
    [0.5, 0.5],
    [0, null],
    [-5, null],
    [Number.POSITIVE_INFINITY, null],
    [Number.NaN, null],
    ['0s', null],
    ['0', null],
    ['-5m', null],
    ['', null],
    ['m', null],
    ['10x', null],
    ['10 minutes', null],
    ['1e3', null],
    ['5m5s', null],
    [null, null],
    [undefined, null],
    [true, null],
    [{}, null],
  ])('parseDuration(%j) = %j', (input, expected) => {
    expect(parseDuration(input)).toBe(expected);
  });
});

describe('validateConfig: valid configurations', () => {
  it('fills every default for a minimal config', () => {
    expect(validateConfig(minimal, 'test.yaml')).toEqual({
      server: { host: '127.0.0.1', port: 8080 },
      publicUrl: null,
      sessions: { idleTimeoutSeconds: 1800, hostGracePeriodSeconds: 15, maxSessions: 1000, maxParticipants: 50 },
      sites: [
        {
          url: 'https://example.com',
          name: 'https://example.com',
          pattern: expect.objectContaining({ host: 'example.com', wildcard: false }),
          mask: [],
          control: 'take',
          hostOnly: [],
          privateNetwork: false,
          hostOnlyUrls: [],
        },
      ],
      demo: { enabled: false, port: 0 },
      trustProxy: 0,
      log: { level: 'info', format: 'auto' },
      metrics: { enabled: true },
      shutdown: { deadlineSeconds: 10 },
      redis: null,
    });
  });

  it('takes a Redis URL and refuses anything that is not one', () => {
    expect(validateConfig({ ...minimal, redis: 'redis://127.0.0.1:6379' }, 't').redis).toBe('redis://127.0.0.1:6379');
    expect(validateConfig({ ...minimal, redis: 'rediss://user:pw@cache.internal:6380/2' }, 't').redis).toBe('rediss://user:pw@cache.internal:6380/2');
    expect(validateConfig({ ...minimal, redis: null }, 't').redis).toBeNull();
    expect(() => validateConfig({ ...minimal, redis: 'http://127.0.0.1:6379' }, 't')).toThrow(/redis: must start with redis:\/\/ or rediss:\/\//);
    expect(() => validateConfig({ ...minimal, redis: 'localhost:6379' }, 't')).toThrow(/redis: must start with redis:/);
    expect(() => validateConfig({ ...minimal, redis: 6379 }, 't')).toThrow(/redis: must be a URL/);
    expect(() => validateConfig({ ...minimal, redis: 'redis://127.0.0.1:6379/cache' }, 't')).toThrow(/database "cache"/);
    expect(() => validateConfig({ ...minimal, redis: 'not a url' }, 't')).toThrow(/redis: is not a URL/);
  });

  it('accepts the demo alone with no sites', () => {
    const config = validateConfig({ demo: { enabled: true } }, 'test.yaml');
    expect(config.sites).toEqual([]);
    expect(config.demo).toEqual({ enabled: true, port: 0 });
  });

  it('reads every setting of a full config', () => {
    const config = validateConfig(
      {
        server: { host: '0.0.0.0', port: 9000 },
        publicUrl: 'https://cobrowse.example.com',
        sessions: { idleTimeout: '2h', maxSessions: 10, maxParticipants: 3 },
        sites: [{ url: 'HTTPS://Example.com:443/', name: '  Example  ' }, { url: 'https://*.shop.example:8443' }, 'http://localhost:3000'],
        demo: { enabled: true, port: 4000 },
      },
      'test.yaml',
    );
    expect(config.server).toEqual({ host: '0.0.0.0', port: 9000 });
    expect(config.publicUrl).toBe('https://cobrowse.example.com');
    expect(config.sessions).toEqual({ idleTimeoutSeconds: 7200, hostGracePeriodSeconds: 15, maxSessions: 10, maxParticipants: 3 });
    expect(config.sites.map((s) => [s.url, s.name])).toEqual([
      ['https://example.com', 'Example'],
      ['https://*.shop.example:8443', 'https://*.shop.example:8443'],
      ['http://localhost:3000', 'http://localhost:3000'],
    ]);
    expect(config.sites[1]?.pattern).toEqual({ text: 'https://*.shop.example:8443', scheme: 'https:', host: 'shop.example', wildcard: true, port: '8443' });
    expect(config.demo).toEqual({ enabled: true, port: 4000 });
  });

  it.each<[string, string]>([
    ['http://localhost:8080', 'http://localhost:8080'],
    ['http://localhost:8080/', 'http://localhost:8080'],
    ['https://cobrowse.example.com:443', 'https://cobrowse.example.com'],
    ['HTTPS://COBROWSE.Example.com', 'https://cobrowse.example.com'],
  ])('normalizes publicUrl %s to %s', (input, expected) => {
    expect(validateConfig({ ...minimal, publicUrl: input }, 'test.yaml').publicUrl).toBe(expected);
  });

  it.each([null, undefined])('treats an empty section (%s) as defaults', (empty) => {
    const config = validateConfig({ ...minimal, server: empty, sessions: empty, demo: empty }, 'test.yaml');
    expect(config.server.port).toBe(8080);
    expect(config.sessions.maxSessions).toBe(1000);
  });

  it('accepts port 0 and 65535', () => {
    expect(validateConfig({ ...minimal, server: { port: 0 } }, 't').server.port).toBe(0);
    expect(validateConfig({ ...minimal, server: { port: 65535 } }, 't').server.port).toBe(65535);
  });

  it('accepts an idleTimeout given as a number of seconds', () => {
    expect(validateConfig({ ...minimal, sessions: { idleTimeout: 90 } }, 't').sessions.idleTimeoutSeconds).toBe(90);
    expect(validateConfig({ ...minimal, sessions: { hostGracePeriod: '2m' } }, 't').sessions.hostGracePeriodSeconds).toBe(120);
    expect(() => validateConfig({ ...minimal, sessions: { hostGracePeriod: 'later' } }, 't')).toThrow(/sessions\.hostGracePeriod/);
  });

  it('lists the top-level keys', () => {
    expect([...TOP_LEVEL_KEYS]).toEqual(['server', 'publicUrl', 'trustProxy', 'redis', 'sessions', 'sites', 'demo', 'log', 'metrics', 'shutdown']);
  });
});

describe('validateConfig: every error names its setting path', () => {
  it.each<[string, string, Record<string, unknown>]>([
    ['unknown top-level key', 'sitez', { ...minimal, sitez: [] }],
    ['unknown server key', 'server.prot', { ...minimal, server: { prot: 80 } }],
    ['unknown sessions key', 'sessions.idle', { ...minimal, sessions: { idle: '5m' } }],
    ['unknown demo key', 'demo.enable', { ...minimal, demo: { enable: true } }],
    ['unknown site key', 'sites[0].title', { sites: [{ url: 'https://a.com', title: 'x' }] }],
    ['server not a mapping', 'server', { ...minimal, server: 8080 }],
    ['sessions not a mapping', 'sessions', { ...minimal, sessions: ['30m'] }],
    ['demo not a mapping', 'demo', { ...minimal, demo: true }],
    ['port is a string', 'server.port', { ...minimal, server: { port: '8080' } }],
    ['port too large', 'server.port', { ...minimal, server: { port: 65536 } }],
    ['port negative', 'server.port', { ...minimal, server: { port: -1 } }],
    ['port fractional', 'server.port', { ...minimal, server: { port: 80.5 } }],
    ['host empty', 'server.host', { ...minimal, server: { host: '' } }],
    ['host not a string', 'server.host', { ...minimal, server: { host: 127 } }],
    ['idleTimeout malformed', 'sessions.idleTimeout', { ...minimal, sessions: { idleTimeout: 'soon' } }],
    ['idleTimeout zero', 'sessions.idleTimeout', { ...minimal, sessions: { idleTimeout: 0 } }],
    ['maxSessions zero', 'sessions.maxSessions', { ...minimal, sessions: { maxSessions: 0 } }],
    ['maxParticipants fractional', 'sessions.maxParticipants', { ...minimal, sessions: { maxParticipants: 2.5 } }],
    ['demo.enabled a string', 'demo.enabled', { ...minimal, demo: { enabled: 'yes' } }],
    ['demo.port too large', 'demo.port', { ...minimal, demo: { port: 100000 } }],
    ['publicUrl not a string', 'publicUrl', { ...minimal, publicUrl: 8080 }],
    ['publicUrl not a URL', 'publicUrl', { ...minimal, publicUrl: 'localhost:8080' }],
    ['publicUrl relative', 'publicUrl', { ...minimal, publicUrl: '/gateway' }],
    ['publicUrl ftp', 'publicUrl', { ...minimal, publicUrl: 'ftp://example.com' }],
    ['publicUrl with path', 'publicUrl', { ...minimal, publicUrl: 'https://example.com/app' }],
    ['publicUrl with query', 'publicUrl', { ...minimal, publicUrl: 'https://example.com/?x=1' }],
    ['publicUrl with fragment', 'publicUrl', { ...minimal, publicUrl: 'https://example.com/#x' }],
    ['publicUrl with user', 'publicUrl', { ...minimal, publicUrl: 'https://user@example.com' }],
    ['publicUrl with password only', 'publicUrl', { ...minimal, publicUrl: 'https://:secret@example.com' }],
    ['publicUrl on IPv4', 'publicUrl', { ...minimal, publicUrl: 'http://127.0.0.1:8080' }],
    ['publicUrl on IPv6', 'publicUrl', { ...minimal, publicUrl: 'http://[::1]:8080' }],
    ['sites not a list', 'sites', { sites: 'https://a.com' }],
    ['site entry a number', 'sites[0]', { sites: [42] }],
    ['site missing url', 'sites[0].url', { sites: [{ name: 'A' }] }],
    ['site empty url', 'sites[0].url', { sites: [''] }],
    ['second site has a path', 'sites[1].url', { sites: ['https://a.com', 'https://b.com/path'] }],
    ['second site bad pattern', 'sites[1].url', { sites: ['https://a.com', { url: 'https://*.com' }] }],
    ['mask not a list', 'sites[0].mask', { sites: [{ url: 'https://a.com', mask: '.x' }] }],
    ['mask entry not a selector', 'sites[0].mask[1]', { sites: [{ url: 'https://a.com', mask: ['.ok', '} body {'] }] }],
    ['a site listed twice', 'sites[1].url', { sites: [{ url: 'https://a.com', mask: ['.x'] }, { url: 'HTTPS://A.COM/' }] }],
    // Selectors a browser refuses: the host's page would mask everything (or reserve everything) for them.
    ['mask entry a browser refuses', 'sites[0].mask[0]', { sites: [{ url: 'https://a.com', mask: ['#1st-card'] }] }],
    ['hostOnly entry a browser refuses', 'sites[0].hostOnly[0]', { sites: [{ url: 'https://a.com', hostOnly: ['button[name=pay'] }] }],
    ['unknown control policy', 'sites[0].control', { sites: [{ url: 'https://a.com', control: 'anyone' }] }],
    ['hostOnly not a list', 'sites[0].hostOnly', { sites: [{ url: 'https://a.com', hostOnly: '#pay' }] }],
    ['site empty name', 'sites[0].name', { sites: [{ url: 'https://a.com', name: '  ' }] }],
    ['site name a number', 'sites[0].name', { sites: [{ url: 'https://a.com', name: 3 }] }],
  ])('%s -> %s', (_what, path, doc) => {
    const problems = problemsOf(doc);
    expect(problems.length).toBeGreaterThan(0);
    expect(new Set(problems.map((p) => p.path))).toEqual(new Set([path]));
    for (const p of problems) expect(p.message.length).toBeGreaterThan(0);
  });

  it('says which keys are known next to an unknown one', () => {
    const [problem] = problemsOf({ ...minimal, server: { prot: 80 } });
    expect(problem?.message).toContain('host, port');
  });

  it('puts the offending value in the message', () => {
    const [problem] = problemsOf({ ...minimal, server: { port: 70000 } });
    expect(problem?.message).toContain('70000');
  });

  it('rejects a document that is not a mapping', () => {
    expect(pathsOf(['https://a.com'])).toContain('(top level)');
    expect(pathsOf('sites')).toContain('(top level)');
  });

  it('reports several problems at once, in a readable message', () => {
    let error: ConfigError | undefined;
    try {
      validateConfig(
        {
          sitez: [],
          server: { port: 'abc', prot: 1 },
          sessions: { idleTimeout: 'never' },
          publicUrl: 'https://example.com/path',
          sites: ['https://ok.com', 'ftp://bad.com'],
        },
        'gateway.config.yaml',
      );
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error?.code).toBe('CONFIG_INVALID');
    expect(error?.source).toBe('gateway.config.yaml');
    expect(error?.problems.map((p) => p.path).sort()).toEqual(['publicUrl', 'server.port', 'server.prot', 'sessions.idleTimeout', 'sites[1].url', 'sitez']);
    expect(error?.message.startsWith('gateway.config.yaml: ')).toBe(true);
    for (const path of ['sitez', 'server.port', 'server.prot', 'sessions.idleTimeout', 'publicUrl', 'sites[1].url']) {
      expect(error?.message).toContain(`${path}: `);
    }
  });
});

describe('validateConfig: a site entry must not cover the gateway itself', () => {
  const ID = 'abcdefghijklmnopqrstuvwxyz';

  it('says which entry, and why, on sites[i].url', () => {
    expect(problemsOf({ publicUrl: 'http://cobrowse.localhost:8080', sites: ['https://ok.example', 'http://*.cobrowse.localhost:8080'] })).toEqual([
      {
        path: 'sites[1].url',
        message:
          '"http://*.cobrowse.localhost:8080" covers the gateway\'s own host (publicUrl http://cobrowse.localhost:8080) or its proxied hosts (*.cobrowse.localhost): the gateway would proxy to itself; remove the entry or give the gateway another publicUrl',
      },
    ]);
  });

  it.each<[string, string, string]>([
    ['its own origin', 'http://localhost:8080', 'http://localhost:8080'],
    ['its own origin, in capitals and with a slash', 'http://cobrowse.localhost:8080', 'HTTP://COBROWSE.LOCALHOST:8080/'],
    ['its proxied hosts', 'http://cobrowse.localhost:8080', 'http://*.cobrowse.localhost:8080'],
    ['one proxied host', 'http://localhost:8080', `http://o1--${ID}.localhost:8080`],
    ['names below a proxied host', 'https://cobrowse.example.com', `https://*.o1--${ID}.cobrowse.example.com`],
    ['its host under a wider wildcard', 'https://cobrowse.example.com', 'https://*.example.com'],
    ['the default port written out', 'https://cobrowse.example.com:443', 'https://*.cobrowse.example.com:443'],
    ['the other scheme on its port', 'http://cobrowse.localhost:8080', 'https://*.cobrowse.localhost:8080'],
  ])('refuses %s', (_what, publicUrl, site) => {
    const problems = problemsOf({ publicUrl, sites: ['https://ok.example', site] });
    expect(problems.map((p) => p.path)).toEqual(['sites[1].url']);
    expect(problems[0]?.message).toMatch(/covers the gateway's own host .* the gateway would proxy to itself/);
  });

  it('names the entry by its place in the file, past an entry refused for something else', () => {
    expect(
      pathsOf({ publicUrl: 'https://cobrowse.example.com', sites: ['ftp://bad.example', { url: 'https://*.cobrowse.example.com', name: 'Loop' }] }),
    ).toEqual(['sites[0].url', 'sites[1].url']);
  });

  it.each<[string, string, string]>([
    ['another port', 'http://cobrowse.localhost:8080', 'http://*.cobrowse.localhost:8081'],
    ['the other scheme on its own default port', 'https://cobrowse.example.com', 'http://*.cobrowse.example.com'],
    ['a sibling name', 'https://cobrowse.example.com', 'https://shop.example.com'],
    ['a wildcard that only ends alike', 'https://cobrowse.example.com', 'https://*.notcobrowse.example.com'],
    ['the parent domain exactly', 'https://cobrowse.example.com', 'https://example.com'],
  ])('accepts %s', (_what, publicUrl, site) => {
    expect(validateConfig({ publicUrl, sites: [site] }, 'test.yaml').sites.map((s) => s.url)).toHaveLength(1);
  });

  it('leaves a config without publicUrl to the running gateway (its port may be known only once it listens)', () => {
    expect(validateConfig({ server: { port: 8080 }, sites: ['http://*.cobrowse.localhost:8080'] }, 'test.yaml').sites).toHaveLength(1);
  });
});

describe('validateConfig: nothing to proxy', () => {
  it.each<[string, unknown]>([
    ['empty document', null],
    ['undefined document', undefined],
    ['empty mapping', {}],
    ['empty site list', { sites: [] }],
    ['demo explicitly off', { sites: [], demo: { enabled: false } }],
  ])('%s is refused under "sites"', (_what, doc) => {
    const problems = problemsOf(doc);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.path).toBe('sites');
    expect(problems[0]?.message).toMatch(/demo/);
  });

  it('does not add the "no sites" problem on top of other problems', () => {
    expect(pathsOf({ sites: [], server: { port: -1 } })).toEqual(['server.port']);
  });
});
