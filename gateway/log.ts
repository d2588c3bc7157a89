// Structured JSON log lines (one object per line on stderr), filtered by level.

/** Log levels from most to least verbose. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** Fields attached to a log line; never put cookie values, tokens or request bodies here. */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

/** A logger that writes JSON lines to a sink. */
export class Logger {
  constructor(
    private readonly level: LogLevel,
    private readonly sink: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  ) {}

  /** Parses a level name (e.g. from LOG_LEVEL); unknown names give `info`. */
  static levelFrom(name: string | undefined): LogLevel {
    return name && name in ORDER ? (name as LogLevel) : 'info';
  }

  private write(level: Exclude<LogLevel, 'silent'>, msg: string, fields?: LogFields): void {
    if (ORDER[level] < ORDER[this.level]) return;
    this.sink(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }));
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
