// Command-line arguments of the start command.

/** Help text of the start command. */
export const USAGE = `Usage: npm start -- [options]

Options:
  --config FILE        config file (default: gateway.config.yaml)
  --port N             port to listen on (overrides server.port and $PORT; 0 = any free port)
  --host ADDR          address to listen on (overrides server.host)
  --check-config FILE  validate FILE, print what is wrong, and exit (0 valid, 1 not)
  --help               show this help

Environment:
  PORT             port to listen on (overrides server.port)
  GATEWAY_API_KEY  when set, POST /api/sessions needs "Authorization: Bearer <key>"
  METRICS_TOKEN    when set, GET /metrics needs "Authorization: Bearer <token>"
  REDIS_URL        shared state for several nodes, e.g. redis://10.0.0.5:6379 (overrides redis)
  LOG_LEVEL        debug, info, warn, error or silent (overrides log.level; default info)
  LOG_FORMAT       json or pretty (overrides log.format; default: pretty on a terminal)

Signals:
  SIGTERM, SIGINT  stop taking new sessions, tell participants, let requests in flight
                   finish (up to shutdown.deadline, default 10s), then exit 0; with
                   Redis the sessions go on: participants reconnect to another node;
                   a second signal exits at once (128 + signal number)

Every setting of the config file is described in README.md ("Configuration").
`;

/** A command-line mistake; its message says what is wrong. */
export class UsageError extends Error {}

/** What the command line asks for. */
export interface CliArgs {
  config: string;
  port?: number;
  host?: string;
  checkOnly: boolean;
  help: boolean;
}

/** Parses the command line; throws UsageError with a clear message. */
export function parseArgs(argv: readonly string[]): CliArgs {
  const args: CliArgs = { config: 'gateway.config.yaml', checkOnly: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--config':
        args.config = value();
        break;
      case '--check-config':
        args.config = value();
        args.checkOnly = true;
        break;
      case '--port': {
        const v = value();
        const n = Number(v);
        if (!/^\d+$/.test(v) || n > 65535) throw new UsageError(`--port must be a port number from 0 to 65535, got ${JSON.stringify(v)}`);
        args.port = n;
        break;
      }
      case '--host':
        args.host = value();
        break;
      case '--help':
      case '-h':
        args.help = true;
        break;
      default:
        throw new UsageError(`unknown option ${JSON.stringify(arg)}`);
    }
  }
  return args;
}
