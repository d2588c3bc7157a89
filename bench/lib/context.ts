// What every scenario gets from the harness: settings of the mode and the running processes.

import type { Asset } from '../children/origin.js';
import type { Participant } from './gateway-session.js';
import type { NginxProxy } from './nginx.js';
import type { Worker } from './procs.js';

export interface Settings {
  mode: 'quick' | 'full';
  /** Measured runs per figure (the median is reported). */
  runs: number;
  /** Length of one HTTP load run, seconds. */
  httpSeconds: number;
  /** Warm-up load per target before its first measured run, seconds. */
  warmupSeconds: number;
  /** autocannon connections. */
  connections: number;
  /** How long the host publishes in one hub run, ms. */
  hubMs: number;
  /** Longest wait for followers to drain after the host stops, ms. */
  hubDrainMs: number;
  hubFollowers: number[];
  hubRates: number[];
  memorySessions: number;
  memoryParticipants: number;
}

export interface Bench {
  settings: Settings;
  /** Directory of the built child scripts (bench/tmp/dist/children). */
  childrenDir: string;
  tmpDir: string;
  origin: Worker<{ port: number; manifest: Asset[]; cookieCount: number }>;
  originUrl: string;
  gateway: Worker<{ port: number; url: string }>;
  /** The host participant of the session the HTTP scenarios load through. */
  gatewayHost: Participant;
  /** With the html scenario: a second gateway whose rewriter passes pages through (children/gateway.ts, rewriterOff), and its session's host. */
  rewriterOff: { gateway: Worker<{ port: number; url: string }>; host: Participant } | null;
  httpProxy: Worker<{ port: number }>;
  /** The design's floor: bare uWS + undici passthrough (children/uws-undici.ts). */
  floor: Worker<{ port: number }>;
  nginx: NginxProxy | null;
  nginxNote: string | null;
  log(msg: string): void;
}
