// The gateway's life: running, then draining (no new sessions, in-flight requests finish), then
// stopped. Readiness (GET /readyz) is false while draining or while a dependency check fails.

/** Where the gateway is in its life. */
export type GatewayState = 'running' | 'draining' | 'stopped';

/**
 * A dependency the gateway needs to take traffic (e.g. a configured Redis): resolves to null when
 * it is fine, or to a short description of what is wrong.
 */
export type ReadinessCheck = () => Promise<string | null> | string | null;

/** What GET /readyz reports. */
export interface Readiness {
  ready: boolean;
  state: GatewayState;
  /** Every check by name: "ok" or what is wrong. */
  checks: Record<string, string>;
}

/** How long one readiness check may take before it counts as failed. */
const CHECK_TIMEOUT_MS = 2000;

/** State, in-flight request tracking and readiness checks of one running gateway. */
export class Lifecycle {
  private current: GatewayState = 'running';
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly checks = new Map<string, ReadinessCheck>();

  get state(): GatewayState {
    return this.current;
  }

  /** True once shutdown began: new sessions are refused. */
  get draining(): boolean {
    return this.current !== 'running';
  }

  /** HTTP requests being served right now. */
  get requestsInFlight(): number {
    return this.inFlight;
  }

  /** Counts one request as in flight; call the returned function (once) when it is over. */
  begin(): () => void {
    this.inFlight++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.inFlight--;
      if (this.inFlight === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    };
  }

  /** Registers a dependency check for readiness (the hook for Redis and the like). */
  addReadinessCheck(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  /** Runs every readiness check (each bounded in time) and combines them with the state. */
  async readiness(): Promise<Readiness> {
    const checks: Record<string, string> = {};
    await Promise.all(
      [...this.checks].map(async ([name, check]) => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const timeout = new Promise<string>((resolve) => {
          timer = setTimeout(() => resolve(`no answer within ${CHECK_TIMEOUT_MS} ms`), CHECK_TIMEOUT_MS);
        });
        try {
          checks[name] = (await Promise.race([Promise.resolve().then(check), timeout])) ?? 'ok';
        } catch (err) {
          checks[name] = (err as Error).message || 'failed';
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    const healthy = Object.values(checks).every((v) => v === 'ok');
    return { ready: this.current === 'running' && healthy, state: this.current, checks };
  }

  /** Enters the draining state; false when shutdown had already begun. */
  startDraining(): boolean {
    if (this.current !== 'running') return false;
    this.current = 'draining';
    return true;
  }

  markStopped(): void {
    this.current = 'stopped';
  }

  /** Resolves true once no request is in flight, or false when `timeoutMs` passes first. */
  whenIdle(timeoutMs: number): Promise<boolean> {
    if (this.inFlight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== wake);
        resolve(false);
      }, timeoutMs);
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.idleWaiters.push(wake);
    });
  }
}
