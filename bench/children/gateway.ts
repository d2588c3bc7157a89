// The gateway under test, in a process of its own (the load generator runs elsewhere): started
// exactly as the product starts it, with a silent logger, on port 0. With `redis` it keeps its
// state in that Redis and fans out through it; nodes of one cluster share `publicUrl`. With
// `rewriterOff` (a measuring instrument, not a product setting) its HTML rewriter hands every chunk
// on as it came: no scan, no script tag; the rest of the HTML path (decoding, headers, the jar, the
// injected tag's making, the body's streaming) runs as usual. What the gateway would reach with a
// rewriter that cost nothing.

import { readFileSync } from 'node:fs';
import { validateConfig } from '../../config/schema.js';
import { Logger } from '../../gateway/log.js';
import { HtmlRewriter } from '../../gateway/rewrite/html-rewriter.js';
import { INJECT_BUNDLE_PATH, startGateway } from '../../gateway/server.js';
import { childArgs, serveRpc, settledUsage, usage } from '../lib/child-rpc.js';

interface Args {
  origin: string;
  maxSessions: number;
  maxParticipants: number;
  /** `redis://` URL of the shared back end; absent: state in this process. */
  redis?: string;
  /** The base URL every node of a cluster answers for; absent: `http://cobrowse.localhost:<port>`. */
  publicUrl?: string;
  /** HTML passes through the rewriter unchanged (see above). */
  rewriterOff?: boolean;
}

const args = childArgs<Args>();
if (args.rewriterOff) {
  // The bundle holds one copy of the class, the one the proxy constructs.
  HtmlRewriter.prototype.write = (chunk: Buffer) => [chunk];
  HtmlRewriter.prototype.end = () => [];
}
const injectBundle = readFileSync(INJECT_BUNDLE_PATH);
const config = validateConfig(
  {
    server: { host: '127.0.0.1', port: 0 },
    sessions: { maxSessions: args.maxSessions, maxParticipants: args.maxParticipants, idleTimeout: '2h' },
    sites: [{ url: args.origin, name: 'bench origin' }],
    ...(args.redis ? { redis: args.redis } : {}),
    ...(args.publicUrl ? { publicUrl: args.publicUrl } : {}),
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
