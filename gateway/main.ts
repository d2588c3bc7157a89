// The start command: `node dist/gateway.js [--config FILE] [--port N] [--host ADDR]`.

import { applyOverrides, loadConfigFile } from '../config/load.js';
import { ConfigError } from '../config/schema.js';
import { type CliArgs, parseArgs, USAGE, UsageError } from './cli-args.js';
import { Logger } from './log.js';
import { startGateway } from './server.js';

function printConfigError(err: ConfigError): void {
  process.stderr.write(`Invalid configuration in ${err.source}:\n`);
  for (const p of err.problems) process.stderr.write(`  ${p.path}: ${p.message}\n`);
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
    const log = new Logger(Logger.levelFrom(process.env.LOG_LEVEL));
    const gateway = await startGateway(config, { log, apiKey: process.env.GATEWAY_API_KEY || null });
    process.stdout.write(`Cobrowse gateway: open ${gateway.url}/ to start a session${gateway.demo ? ` (demo site at ${gateway.demo.origin})` : ''}.\n`);
    const stop = () => {
      void gateway.close().then(() => process.exit(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
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
