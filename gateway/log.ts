// Structured log lines, one per event, filtered by level: JSON for machines (the default), or a
// readable single line for a developer's terminal. Never log a cookie value, a token, a masked
// value or a request body: fields whose names say they hold one are redacted as a safety net.

/** Log levels from most to least verbose. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

/** How lines are written: `json` (one object per line) or `pretty` (for a terminal). */
export type LogFormat = 'json' | 'pretty';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** Fields attached to a log line; never put cookie values, tokens or request bodies here. */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

/** Options of a Logger beyond its level and sink. */
export interface LoggerOptions {
  /** Default `json`: the sink receives one JSON object per line. */
  format?: LogFormat;
  /** Colors in pretty lines (a terminal). */
  color?: boolean;
  /** Fields every line of this logger carries (see child()). */
  bindings?: LogFields;
}

/** Field names whose values are never written, whatever a caller passes. */
const SECRET_FIELD = /(^|[-_])(cookie|set-cookie|authorization|body|password|value)$|token$|secret$|apikey$/i;

const COLORS: Record<Exclude<LogLevel, 'silent'>, string> = { debug: '\x1b[90m', info: '\x1b[36m', warn: '\x1b[33m', error: '\x1b[31m' };

/** A logger that writes one line per event to a sink. */
export class Logger {
  private readonly format: LogFormat;
  private readonly color: boolean;
  private readonly bindings: LogFields;

  constructor(
    private readonly level: LogLevel,
    private readonly sink: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
    options: LoggerOptions = {},
  ) {
    this.format = options.format ?? 'json';
    this.color = options.color ?? false;
    this.bindings = options.bindings ?? {};
  }

  /** Parses a level name (e.g. from LOG_LEVEL); unknown names give `info`. */
  static levelFrom(name: string | undefined): LogLevel {
    return name && name in ORDER ? (name as LogLevel) : 'info';
  }

  /** True when `name` is a level name. */
  static isLevel(name: string | undefined): name is LogLevel {
    return name !== undefined && name in ORDER;
  }

  /** The format for LOG_FORMAT / `log.format` (`auto`: pretty on a terminal, JSON otherwise). */
  static formatFrom(name: string | undefined, isTerminal: boolean): LogFormat {
    if (name === 'json' || name === 'pretty') return name;
    return isTerminal ? 'pretty' : 'json';
  }

  /** A logger whose every line also carries `fields` (e.g. a session id). */
  child(fields: LogFields): Logger {
    return new Logger(this.level, this.sink, { format: this.format, color: this.color, bindings: { ...this.bindings, ...fields } });
  }

  /** True when lines of `level` are written (skip building costly fields otherwise). */
  enabled(level: Exclude<LogLevel, 'silent'>): boolean {
    return ORDER[level] >= ORDER[this.level];
  }

  private write(level: Exclude<LogLevel, 'silent'>, msg: string, fields?: LogFields): void {
    if (!this.enabled(level)) return;
    const record: Record<string, unknown> = { time: new Date().toISOString(), level, msg };
    for (const source of [this.bindings, fields]) {
      if (!source) continue;
      for (const [key, value] of Object.entries(source)) {
        if (value === undefined || key === 'time' || key === 'level' || key === 'msg') continue;
        record[key] = SECRET_FIELD.test(key) ? '[redacted]' : value;
      }
    }
    this.sink(this.format === 'json' ? JSON.stringify(record) : this.pretty(level, record));
  }

  private pretty(level: Exclude<LogLevel, 'silent'>, record: Record<string, unknown>): string {
    const { time, msg, level: _level, ...rest } = record;
    const clock = String(time).slice(11, 23);
    const tag = level.toUpperCase().padEnd(5);
    const pairs = Object.entries(rest).map(([k, v]) => {
      const text = typeof v === 'string' && (v === '' || /[\s"=]/.test(v)) ? JSON.stringify(v) : String(v);
      return this.color ? `\x1b[90m${k}=\x1b[0m${text}` : `${k}=${text}`;
    });
    const head = this.color ? `\x1b[90m${clock}\x1b[0m ${COLORS[level]}${tag}\x1b[0m ${String(msg)}` : `${clock} ${tag} ${String(msg)}`;
    return pairs.length > 0 ? `${head}  ${pairs.join(' ')}` : head;
  }

  debug(msg: string, fields?: LogFields): void {
    this.write('debug', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.write('info', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.write('warn', msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.write('error', msg, fields);
  }
}

/** Log fields describing an error: its message, name and (for unexpected errors) stack. */
export function errorFields(err: unknown, withStack = false): LogFields {
  if (!(err instanceof Error)) return { error: String(err) };
  return { error: err.message, errorName: err.name, stack: withStack ? err.stack : undefined };
}
