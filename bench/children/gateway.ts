// The gateway under test, in a process of its own (the load generator runs elsewhere): started
// exactly as the product starts it, with a silent logger, on port 0.

import { readFileSync } from 'node:fs';
import { validateConfig } from '../../config/schema.js';
import { Logger } from '../../gateway/log.js';
import { INJECT_BUNDLE_PATH, startGateway } from '../../gateway/server.js';
import { childArgs, serveRpc, settledUsage, usage } from '../lib/child-rpc.js';

interface Args {
  origin: string;
  maxSessions: number;
  maxParticipants: number;
}

const args = childArgs<Args>();
const injectBundle = readFileSync(INJECT_BUNDLE_PATH);
const config = validateConfig(
  {
    server: { host: '127.0.0.1', port: 0 },
    sessions: { maxSessions: args.maxSessions, maxParticipants: args.maxParticipants, idleTimeout: '2h' },
    sites: [{ url: args.origin, name: 'bench origin' }],
  },
  'bench',
);
const gateway = await startGateway(config, { log: new Logger('silent'), injectBundle });

serveRpc(
  { port: gateway.port, url: gateway.url },
  {
    usage,
    settledUsage,
    stats: () => ({ sessions: gateway.context.registry.size, sockets: gateway.hub.connectionCount }),
  },
);
