// document.domain as on the real site. The page runs on its proxied host, so the browser's own
// getter named the gateway's host, and its setter threw a SecurityError for the site's own domain
// (`document.domain = 'example.com'` on www.example.com, which legacy scripts still run before
// anything else, stopping them). Chromium keeps pages origin-keyed, where a valid assignment
// changes nothing: so the getter says the real host, and the setter accepts what Chromium accepts
// on the real host (the host itself, or a parent domain of it with a dot: `localhost` or `com`
// alone are refused) and changes nothing, throwing SecurityError for anything else.

/** Replaces document.domain on `win`'s Document.prototype with the real host's; `host` is the real site's host name. */
export function installDocumentDomain(win: Window & typeof globalThis, host: string): void {
  const real = host.toLowerCase();
  const ip = /^\d+\.\d+\.\d+\.\d+$/.test(real) || real.includes(':') || real.startsWith('[');
  const accessors = Object.getOwnPropertyDescriptor(
    {
      get domain(): string {
        return real;
      },
      set domain(value: string) {
        const asked = String(value).toLowerCase();
        const allowed = asked === real || (!ip && asked.includes('.') && real.endsWith(`.${asked}`));
        if (!allowed) {
          throw new win.DOMException(`Failed to set the 'domain' property on 'Document': '${String(value)}' is not a suffix of '${real}'.`, 'SecurityError');
        }
      },
    },
    'domain',
  ) as PropertyDescriptor;
  const native = Object.getOwnPropertyDescriptor(win.Document.prototype, 'domain');
  if (!native?.configurable) return;
  Object.defineProperty(win.Document.prototype, 'domain', { configurable: true, enumerable: native.enumerable, get: accessors.get, set: accessors.set });
}
