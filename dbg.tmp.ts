import { createSession, startTestGateway } from './test/helpers/gateway.js';

process.env.TEST_LOG_LEVEL = 'debug';
const t = await startTestGateway({ redis: 'redis://127.0.0.1:6390', sessions: { idleTimeout: '2s' } }, { sweepIntervalMs: 200 });
const s = await createSession(t, `${t.demoOrigin}/`);
await t.join(s.hostUrl);
await new Promise((r) => setTimeout(r, 3500));
console.log((await t.call('GET', `${t.gateway.url}/api/sessions/${s.id}`, { headers: { authorization: `Bearer ${s.adminToken}` } })).status);
await t.close();
process.exit(0);
