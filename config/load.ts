// Reads gateway.config.yaml, validates it and applies the environment's overrides.

import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { ConfigError, type GatewayConfig, validateConfig, validateRedisUrl } from './schema.js';

/** Parses YAML text and validates it; `source` names the file in error messages. */
export function parseConfigText(text: string, source: string): GatewayConfig {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      source,
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        return { path: pos ? `line ${pos.line}, column ${pos.col}` : '(yaml)', message: e.message.split('\n')[0] ?? e.message };
      }),
    );
  }
  return validateConfig(doc.toJS(), source);
}

/** Loads and validates a config file; a missing or unreadable file is a ConfigError too. */
export function loadConfigFile(path: string): GatewayConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (err as Error).message;
    throw new ConfigError(path, [{ path: '(file)', message: reason }]);
  }
  return parseConfigText(text, path);
}

/** Overrides that come from the command line and the environment, applied after the file. */
export interface ConfigOverrides {
  port?: number;
  host?: string;
}

/** Applies `--port`/`PORT`, `--host` and `REDIS_URL`; the command line wins over the environment. */
export function applyOverrides(config: GatewayConfig, overrides: ConfigOverrides, env: NodeJS.ProcessEnv): GatewayConfig {
  let port = config.server.port;
  if (env.PORT !== undefined && env.PORT !== '') {
    const n = Number(env.PORT);
    if (!/^\d{1,5}$/.test(env.PORT) || n > 65535) {
      throw new ConfigError('environment', [{ path: 'PORT', message: `must be a port number, got ${JSON.stringify(env.PORT)}` }]);
    }
    port = n;
  }
  if (overrides.port !== undefined) port = overrides.port;
  let redis = config.redis;
  if (env.REDIS_URL !== undefined && env.REDIS_URL !== '') {
    const problems: { path: string; message: string }[] = [];
    redis = validateRedisUrl(env.REDIS_URL, 'REDIS_URL', { add: (path, message) => problems.push({ path, message }) });
    if (problems.length > 0) throw new ConfigError('environment', problems);
  }
  return { ...config, server: { host: overrides.host ?? config.server.host, port }, redis };
}
