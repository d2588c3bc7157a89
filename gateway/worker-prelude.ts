// The site's dedicated and shared worker scripts get the worker URL runtime in front of them
// (dist/inject-worker.js): inside a worker, fetch, importScripts and the rest would otherwise go
// to the real origins, since no page script reaches a worker's scope.

import { readFileSync } from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';
import { bundlePath } from './bundle-path.js';

/** Path of the built worker runtime (bundle-path.ts). */
export const WORKER_BUNDLE_PATH = bundlePath('inject-worker.js');

/** Reads the built worker runtime; fails with the command that builds it. */
export function readWorkerBundle(): Uint8Array {
  try {
    return readFileSync(WORKER_BUNDLE_PATH);
  } catch {
    throw new Error(`The worker bundle ${WORKER_BUNDLE_PATH} is missing: run "npm run build" first.`);
  }
}

/** True for the request of a worker's own script (not its imports: those are requested as scripts). */
export function isWorkerScript(headers: Readonly<Record<string, string>>): boolean {
  const dest = headers['sec-fetch-dest'];
  return dest === 'worker' || dest === 'sharedworker';
}

/** What the worker runtime needs to know (as in the page's script tag). */
export interface WorkerSettings {
  origin: string;
  origins: Record<string, string>;
  enter: readonly string[];
}

/** A script that starts with a "use strict" directive (after comments): it must stay first to count. */
const USE_STRICT = /^\s*(?:(?:\/\/[^\n]*\n|\/\*[\s\S]*?\*\/)\s*)*(['"])use strict\1/;

/** A Transform that puts the worker runtime and its settings in front of a worker script. */
export class WorkerPreludeStream extends Transform {
  private started = false;

  constructor(
    private readonly bundle: Uint8Array,
    private readonly settings: WorkerSettings,
  ) {
    super();
  }

  private prelude(first: Buffer): Buffer {
    const strict = USE_STRICT.test(first.subarray(0, 4096).toString('latin1')) ? '"use strict";' : '';
    const settings = `self.__cobrowseWorker=${JSON.stringify(this.settings).replace(/</g, '\\u003c')};`;
    return Buffer.concat([Buffer.from(`${strict}${settings}\n`), this.bundle, Buffer.from('\n')]);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (!this.started) {
      this.started = true;
      this.push(this.prelude(chunk));
    }
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (!this.started) this.push(this.prelude(Buffer.alloc(0)));
    done();
  }
}
