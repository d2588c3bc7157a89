// The participant's identity on the session's other proxied hosts. Each host holds a host-only
// cookie of its own, handed over by a one-time ticket: a request to this page's host
// (`/__cobrowse/cross-enter`) redirects to the other host's `/__cobrowse/enter?ticket=...`, which
// sets the cookie. The page's script never sees a ticket (it only travels in redirects). Entry is
// an XHR rather than a frame: the site's CSP governs frames (issue 3: the frame was refused), and
// WebSocket, EventSource, beacons and form submissions need it done synchronously, before they go.

const CROSS_ENTER = '/__cobrowse/cross-enter';

/** Which of the session's hosts hold this participant's cookie, and how to hand it to the others. */
export class HostEntry {
  private readonly entered = new Set<string>();
  private readonly pending = new Map<string, Promise<void>>();

  constructor(
    private readonly NativeXHR: typeof XMLHttpRequest,
    /** The proxied origin whose cross-enter endpoint hands the identity over (the page's own). */
    private readonly gateway: string,
    /** Proxied origins the gateway said this participant has entered. */
    entered: Iterable<string>,
    /** True for a host of this session on the gateway. */
    private readonly isSessionOrigin: (origin: string) => boolean,
  ) {
    for (const origin of entered) this.entered.add(origin);
    this.entered.add(gateway);
  }

  /** Takes `origins` for hosts that do not hold the cookie (a later tag of this realm said so). */
  forget(origins: readonly string[]): void {
    for (const origin of origins) if (origin !== this.gateway) this.entered.delete(origin);
  }

  /** The proxied origin of `url` when it is another host of the session that does not hold the cookie yet. */
  needs(url: string): string | null {
    let origin: string;
    try {
      origin = new URL(url, location.href).origin;
    } catch {
      return null;
    }
    return !this.entered.has(origin) && this.isSessionOrigin(origin) ? origin : null;
  }

  private request(origin: string, sync: boolean): XMLHttpRequest {
    const label = new URL(origin).hostname.split('--')[0] ?? '';
    const xhr = new this.NativeXHR();
    xhr.open('GET', `${this.gateway}${CROSS_ENTER}?label=${encodeURIComponent(label)}&cors=1`, !sync);
    xhr.withCredentials = true;
    return xhr;
  }

  /** Enters `url`'s host before returning (for what cannot wait: sockets, beacons, navigations). */
  enterNow(url: string): void {
    const origin = this.needs(url);
    if (!origin) return;
    try {
      const xhr = this.request(origin, true);
      xhr.send();
      if (xhr.status === 204) this.entered.add(origin);
    } catch {
      // Refused (the session ended, the host is unknown): the request itself will say why.
    }
  }

  /** Resolves once `url`'s host holds the cookie (or entering it failed); once per host. */
  enter(url: string): Promise<void> {
    const origin = this.needs(url);
    if (!origin) return Promise.resolve();
    let pending = this.pending.get(origin);
    if (!pending) {
      pending = new Promise<void>((resolve) => {
        const xhr = this.request(origin, false);
        xhr.onloadend = () => {
          if (xhr.status === 204) this.entered.add(origin);
          this.pending.delete(origin);
          resolve();
        };
        xhr.send();
      });
      this.pending.set(origin, pending);
    }
    return pending;
  }
}
