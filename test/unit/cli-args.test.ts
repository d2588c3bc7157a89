import { describe, expect, it } from 'vitest';
import { type CliArgs, parseArgs, USAGE, UsageError } from '../../gateway/cli-args.js';

const DEFAULTS: CliArgs = { config: 'gateway.config.yaml', checkOnly: false, help: false };

function usageError(argv: string[]): string {
  try {
    parseArgs(argv);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(argv)} to be refused`);
}

describe('parseArgs: accepted command lines', () => {
  it.each<[string[], Partial<CliArgs>]>([
    [[], {}],
    [['--config', 'my.yaml'], { config: 'my.yaml' }],
    [['--config=my.yaml'], { config: 'my.yaml' }],
    [['--config=a=b.yaml'], { config: 'a=b.yaml' }],
    [['--config', 'a.yaml', '--config', 'b.yaml'], { config: 'b.yaml' }],
    [['--port', '0'], { port: 0 }],
    [['--port', '8080'], { port: 8080 }],
    [['--port=65535'], { port: 65535 }],
    [['--port', '1'], { port: 1 }],
    [['--host', '0.0.0.0'], { host: '0.0.0.0' }],
    [['--host=::1'], { host: '::1' }],
    [['--check-config', 'x.yaml'], { config: 'x.yaml', checkOnly: true }],
    [['--check-config=x.yaml'], { config: 'x.yaml', checkOnly: true }],
    [['--help'], { help: true }],
    [['-h'], { help: true }],
    [['--config', 'c.yaml', '--port', '9000', '--host', '127.0.0.1'], { config: 'c.yaml', port: 9000, host: '127.0.0.1' }],
    [['--port', '3000', '--help'], { port: 3000, help: true }],
  ])('%j', (argv, expected) => {
    expect(parseArgs(argv)).toEqual({ ...DEFAULTS, ...expected });
  });
});

describe('parseArgs: refused command lines', () => {
  it.each<[string[], string]>([
    [['--port', '65536'], '--port must be a port number from 0 to 65535, got "65536"'],
    [['--port', '70000'], '--port must be a port number from 0 to 65535, got "70000"'],
    [['--port', 'abc'], '--port must be a port number from 0 to 65535, got "abc"'],
    [['--port', '-1'], '--port must be a port number from 0 to 65535, got "-1"'],
    [['--port', '80.5'], '--port must be a port number from 0 to 65535, got "80.5"'],
    [['--port', '1e3'], '--port must be a port number from 0 to 65535, got "1e3"'],
    [['--port', '0x50'], '--port must be a port number from 0 to 65535, got "0x50"'],
    [['--port', ' 80'], '--port must be a port number from 0 to 65535, got " 80"'],
    [['--port=abc'], '--port must be a port number from 0 to 65535, got "abc"'],
    [['--port'], '--port needs a value'],
    [['--port='], '--port needs a value'],
    [['--port', ''], '--port needs a value'],
    [['--config'], '--config needs a value'],
    [['--config='], '--config needs a value'],
    [['--check-config'], '--check-config needs a value'],
    [['--host'], '--host needs a value'],
    [['--verbose'], 'unknown option "--verbose"'],
    [['--prot', '80'], 'unknown option "--prot"'],
    [['--prot=80'], 'unknown option "--prot=80"'],
    [['-p', '80'], 'unknown option "-p"'],
    [['config.yaml'], 'unknown option "config.yaml"'],
    [['--CONFIG', 'x'], 'unknown option "--CONFIG"'],
    [['--port', '80', 'extra'], 'unknown option "extra"'],
  ])('%j', (argv, message) => {
    expect(usageError(argv)).toBe(message);
  });
});

describe('USAGE', () => {
  it.each(['--config', '--port', '--host', '--check-config', '--help', 'PORT'])('documents %s', (option) => {
    expect(USAGE).toContain(option);
  });
});
