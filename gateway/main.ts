// The start command: `node dist/gateway.js [--config FILE] [--port N] [--host ADDR]`.

import { constants } from 'node:os';
import { applyOverrides, loadConfigFile } from '../config/load.js';
import { ConfigError } from '../config/schema.js';
import { type CliArgs, parseArgs, USAGE, UsageError } from './cli-args.js';
import { errorFields, Logger } from './log.js';
import { type RunningGateway, startGateway } from './server.js';

function printConfigError(err: ConfigError): void {
  process.stderr.write(`Invalid configuration in ${err.source}:\n`);
  for (const p of err.problems) process.stderr.write(`  ${p.path}: ${p.message}\n`);
}

/** An error no handler caught is logged, and the gateway keeps serving everyone else. */
function containCrashes(log: Logger): void {
  process.on('uncaughtException', (err) => log.error('uncaught exception (the gateway keeps running)', errorFields(err, true)));
  process.on('unhandledRejection', (reason) => log.error('unhandled rejection (the gateway keeps running)', errorFields(reason, true)));
}

/**
 * SIGTERM or SIGINT: drain (no new sessions, participants told, in-flight requests finish within
 * the deadline), then exit 0. A second signal exits at once with 128 + the signal's number.
 */
function stopOnSignals(gateway: RunningGateway, log: Logger, deadlineMs: number): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn('second signal: exiting now', { signal });
      process.exit(128 + (constants.signals[signal] ?? 15));
    }
    stopping = true;
    log.info('signal received: shutting down', { signal, deadlineMs });
    // Closing should take moments after the deadline; never hang past it.
    setTimeout(() => {
      log.error('shutdown did not finish: exiting');
      process.exit(1);
    }, deadlineMs + 5000).unref();
    gateway.shutdown(deadlineMs).then(
      () => process.exit(0),
      (err: unknown) => {
        log.error('shutdown failed', errorFields(err, true));
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

async function main(): Promise<number> {
  let args: CliArgs;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  try {
    const fileConfig = loadConfigFile(args.config);
    if (args.checkOnly) {
      process.stdout.write(`${args.config}: configuration is valid (${fileConfig.sites.length} site(s), demo ${fileConfig.demo.enabled ? 'on' : 'off'}).\n`);
      return 0;
    }
    const config = applyOverrides(fileConfig, { port: args.port, host: args.host }, process.env);
    const terminal = Boolean(process.stderr.isTTY);
    const envLevel = process.env.LOG_LEVEL || undefined;
    const log = new Logger(Logger.levelFrom(envLevel ?? config.log.level), undefined, {
      format: Logger.formatFrom(process.env.LOG_FORMAT || config.log.format, terminal),
      color: terminal,
    });
    if (envLevel && !Logger.isLevel(envLevel)) log.warn('LOG_LEVEL is not debug, info, warn, error or silent: using info', { given: envLevel });
    containCrashes(log);
    const gateway = await startGateway(config, {
      log,
      apiKey: process.env.GATEWAY_API_KEY || null,
      metricsToken: process.env.METRICS_TOKEN || null,
    });
    process.stdout.write(`Cobrowse gateway: open ${gateway.url}/ to start a session${gateway.demo ? ` (demo site at ${gateway.demo.origin})` : ''}.\n`);
    stopOnSignals(gateway, log, config.shutdown.deadlineSeconds * 1000);
    return -1;
  } catch (err) {
    if (err instanceof ConfigError) {
      printConfigError(err);
      return 1;
    }
    process.stderr.write(`The gateway could not start: ${(err as Error).message}\n`);
    return 1;
  }
}

const code = await main();
if (code >= 0) process.exit(code);
