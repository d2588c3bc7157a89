// Shared by the browser tests and the benchmarks (no test-runner imports here).

/** The flags Chromium needs on this machine (no sandbox as root, no network beyond loopback). */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
] as const;
