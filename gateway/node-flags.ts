// The V8 flags the gateway's process is started with (Procfile, `npm start`, the bench's gateway
// children; test/ops.test.ts checks that they agree).
//
// --max-semi-space-size=64 (MB; Node 20's default is 16): every proxied page allocates its bytes
// as a string for the rewriter and buffers for the sockets, so the young generation fills many
// times a second under load; a larger one is scavenged less often, each time copying about the
// same few live objects. Measured with the gateway alone under 32 connections (origin in another
// process, 5 rounds of 3 s, medians of CPU per request): 50 KB HTML 287 -> 254 µs, 50 KB passed
// through 169 -> 137 µs, 1 KB JSON unchanged (session 15, bench/README.md). It costs memory only
// under allocation pressure: up to ~3 x 64 MB of young generation.

export const GATEWAY_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];
