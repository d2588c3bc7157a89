// The table of the gateway's settings: every key of the file, its type, default, an example and
// what it means. config/schema.ts validates against it; the config reference in README.md is made
// from it (configReferenceMarkdown, kept equal by test/ops.test.ts).

/** One documented setting. The validator takes its known keys and defaults from these, and the config reference in README.md is generated from them. */
export interface SettingSpec {
  /** Dotted path; `sites[].url` is a key of every entry of the list. */
  key: string;
  type: string;
  /** The default as written in YAML; undefined when computed (see defaultText) or required. */
  default?: string | number | boolean;
  /** The default in words, when it is not a plain value. */
  defaultText?: string;
  /** A valid value, as YAML. */
  example: string;
  description: string;
}

/** Every setting of the file, in the order of the reference. */
export const SETTINGS: readonly SettingSpec[] = [
  {
    key: 'server.host',
    type: 'string',
    default: '127.0.0.1',
    example: '0.0.0.0',
    description: 'address to listen on (`0.0.0.0` for all); `--host` overrides it',
  },
  { key: 'server.port', type: 'integer 0-65535', default: 8080, example: '8080', description: 'port (`0`: any free port); `$PORT` and `--port` override it' },
  {
    key: 'publicUrl',
    type: 'URL (origin)',
    defaultText: '`http://cobrowse.localhost:<port>`',
    example: 'https://cobrowse.example.com',
    description: 'base URL browsers use; proxied hosts are its subdomains, and an `https:` URL makes every cookie `Secure`',
  },
  {
    key: 'trustProxy',
    type: 'integer >= 0',
    default: 0,
    example: '1',
    description:
      'reverse proxies in front of the gateway that append to `X-Forwarded-For`; the client address in logs is read from there (`0`: the socket address)',
  },
  {
    key: 'redis',
    type: 'URL',
    defaultText: 'none (state in memory)',
    example: 'redis://10.0.0.5:6379/0',
    description:
      'Redis that several gateway nodes share: sessions, cookie jars, checkpoints, chat and audit logs live there and the hub fans out through it (`redis://` or `rediss://`, optional user, password and database); `$REDIS_URL` overrides it',
  },
  {
    key: 'sessions.idleTimeout',
    type: 'duration',
    default: '30m',
    example: '2h',
    description: 'a session nobody is connected to ends after this (`90s`, `2h`, or seconds)',
  },
  {
    key: 'sessions.hostGracePeriod',
    type: 'duration',
    default: '15s',
    example: '30s',
    description: "how long the host's page may be gone before the longest-connected controller takes over",
  },
  { key: 'sessions.maxSessions', type: 'integer > 0', default: 1000, example: '200', description: 'sessions at once (over every node when they share Redis)' },
  { key: 'sessions.maxParticipants', type: 'integer > 0', default: 50, example: '10', description: 'participants per session' },
  {
    key: 'sites',
    type: 'list',
    defaultText: 'none',
    example: '[https://example.com]',
    description: 'the sites that may be proxied; an entry is a mapping, or just its `url`',
  },
  {
    key: 'sites[].url',
    type: 'origin or pattern',
    defaultText: 'required',
    example: 'https://*.shop.example.com',
    description:
      "`https://example.com`, or `https://*.example.com` (subdomains only); never the gateway's own host or a name below it on its port (the gateway would proxy to itself)",
  },
  { key: 'sites[].name', type: 'string', defaultText: 'the url', example: 'Example shop', description: 'name on the landing page' },
  {
    key: 'sites[].mask',
    type: 'list of CSS selectors',
    defaultText: 'none',
    example: '[.card-number, "#ssn"]',
    description:
      "elements masked in the host's browser before anything is sent (password fields always are); a selector the browser cannot read masks the whole page (the config check refuses plain syntax mistakes at start)",
  },
  {
    key: 'sites[].control',
    type: '`take`, `request` or `host-only`',
    default: 'take',
    example: 'request',
    description: '`take`: participants with a control link act at once; `request`: they ask and the host grants; `host-only`: only the host acts',
  },
  {
    key: 'sites[].hostOnly',
    type: 'list of CSS selectors',
    defaultText: 'none',
    example: '["#pay-now", "form.checkout button"]',
    description:
      'elements only the host may click or fill in; a participant with control is refused and told why; a selector the browser cannot read reserves the whole page',
  },
  {
    key: 'sites[].hostOnlyUrls',
    type: 'list of path patterns',
    defaultText: 'none',
    example: '["/checkout*", "/account/delete"]',
    description:
      'pages only the host may open: a participant with control following a link there, or typing it, is refused and told why (`*` matches any characters)',
  },
  {
    key: 'sites[].privateNetwork',
    type: 'boolean',
    default: false,
    example: 'true',
    description:
      'the site is on a private network: its names may resolve to private, loopback or link-local addresses (otherwise such answers are refused, against SSRF); IP literals and `*.localhost` names are always taken as written',
  },
  { key: 'demo.enabled', type: 'boolean', default: false, example: 'true', description: 'serve the bundled demo shop on loopback and allow it' },
  { key: 'demo.port', type: 'integer 0-65535', default: 0, example: '4000', description: "the demo shop's port (`0`: any free port)" },
  { key: 'log.level', type: '`debug`, `info`, `warn`, `error` or `silent`', default: 'info', example: 'debug', description: '`$LOG_LEVEL` overrides it' },
  {
    key: 'log.format',
    type: '`auto`, `json` or `pretty`',
    default: 'auto',
    example: 'json',
    description: '`auto`: readable lines on a terminal, one JSON object per line otherwise; `$LOG_FORMAT` overrides it',
  },
  {
    key: 'metrics.enabled',
    type: 'boolean',
    default: true,
    example: 'false',
    description: 'serve `GET /metrics` (Prometheus text) on the gateway host; with `$METRICS_TOKEN` set it needs `Authorization: Bearer <token>`',
  },
  {
    key: 'shutdown.deadline',
    type: 'duration',
    default: '10s',
    example: '25s',
    description: 'after SIGTERM, how long in-flight requests get to finish before the gateway closes them and exits',
  },
];

/** The keys one level below `prefix` (`''` for the top level, `sites[]` for a site entry), as the validator accepts them. */
export function settingKeys(prefix: string): string[] {
  const keys: string[] = [];
  for (const { key } of SETTINGS) {
    const rest = prefix === '' ? key : key.startsWith(`${prefix}.`) ? key.slice(prefix.length + 1) : null;
    const first = rest?.split('.')[0]?.replace('[]', '');
    if (first && !keys.includes(first)) keys.push(first);
  }
  return keys;
}

/** The documented default of a setting (throws for a key the table lacks: a programming error). */
export function defaultOf<T extends string | number | boolean>(key: string): T {
  const spec = SETTINGS.find((s) => s.key === key);
  if (spec?.default === undefined) throw new Error(`config/settings.ts: no default for ${key}`);
  return spec.default as T;
}

const cell = (text: string) => text.replace(/\|/g, '\\|');

/** The configuration reference as a Markdown table (README.md holds a copy; a test keeps them equal). */
export function configReferenceMarkdown(): string {
  const rows = SETTINGS.map((s) => {
    const dflt = s.defaultText ?? (s.default === undefined ? '-' : `\`${String(s.default)}\``);
    return `| \`${s.key}\` | ${cell(s.type)} | ${cell(dflt)} | \`${cell(s.example)}\` | ${cell(s.description)} |`;
  });
  return ['| key | type | default | example | meaning |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}
