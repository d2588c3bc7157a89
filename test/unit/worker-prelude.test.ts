// The prelude of worker scripts: settings and runtime first, a leading "use strict" kept first.

import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { isWorkerScript, WorkerPreludeStream } from '../../gateway/worker-prelude.js';

async function through(chunks: string[]): Promise<string> {
  const stream = Readable.from(chunks.map((c) => Buffer.from(c))).pipe(
    new WorkerPreludeStream(Buffer.from('/*runtime*/'), {
      origin: 'https://a.example',
      origins: { 'https://a.example': 'http://o1--s.x' },
      enter: ['</script>'],
    }),
  );
  const out: Buffer[] = [];
  for await (const c of stream) out.push(c as Buffer);
  return Buffer.concat(out).toString();
}

describe('WorkerPreludeStream', () => {
  it('puts the settings and the runtime before the script, which follows unchanged', async () => {
    const out = await through(['importScripts("x.js");', '\npostMessage(1);']);
    expect(out).toBe(
      'self.__cobrowseWorker={"origin":"https://a.example","origins":{"https://a.example":"http://o1--s.x"},"enter":["\\u003c/script>"]};\n/*runtime*/\nimportScripts("x.js");\npostMessage(1);',
    );
  });

  it('repeats a leading "use strict" directive so that the script stays strict', async () => {
    expect(await through(["// header\n/* more */ 'use strict';\nx = 1;"])).toMatch(/^"use strict";self\.__cobrowseWorker=/);
    expect(await through(['x = 1; "use strict";'])).toMatch(/^self\.__cobrowseWorker=/);
  });

  it('gives an empty script the runtime too', async () => {
    expect(await through([])).toContain('/*runtime*/');
  });

  it("knows a worker's own script by its fetch destination", () => {
    expect(isWorkerScript({ 'sec-fetch-dest': 'worker' })).toBe(true);
    expect(isWorkerScript({ 'sec-fetch-dest': 'sharedworker' })).toBe(true);
    expect(isWorkerScript({ 'sec-fetch-dest': 'script' })).toBe(false);
    expect(isWorkerScript({})).toBe(false);
  });
});
