// document.cookie in the host's page, backed by the session's jar on the gateway. Reads come from
// a local copy kept fresh by the hub; a write is stored in the jar (synchronously) before the
// page can send its next request, so the site's next fetch carries it.

/** Where the gateway serves the page's script-visible cookies. */
const COOKIE_ENDPOINT = '/__cobrowse/cookies';

/** The installed shim. */
export interface CookieShim {
  /** Reloads the copy from the jar (after the hub says it changed). */
  refresh(): void;
}

/** Replaces document.cookie; `initial` is what the gateway embedded in the page. Null when not installed. */
export function installCookieShim(initial: string | undefined, initialExpiry: string | undefined): CookieShim | null {
  if (initial === undefined) return null;
  // Saved now: the site may patch these later.
  const NativeXHR = XMLHttpRequest;
  const nativeFetch = fetch.bind(window);
  let copy = initial;
  // When a cookie of the copy expires, the next read fetches the jar's view (once) before answering.
  let expiresAt = Number(initialExpiry ?? 0) || 0;
  const endpoint = () => `${COOKIE_ENDPOINT}?path=${encodeURIComponent(location.pathname)}`;
  const take = (text: string, expiry: string | null) => {
    copy = text;
    expiresAt = Number(expiry ?? 0) || 0;
  };
  const readSync = () => {
    try {
      const xhr = new NativeXHR();
      xhr.open('GET', endpoint(), false);
      xhr.send();
      if (xhr.status === 200) take(xhr.responseText, xhr.getResponseHeader('x-cobrowse-cookies-expire'));
      else expiresAt = 0;
    } catch (err) {
      expiresAt = 0;
      console.debug('[cobrowse] cookie read failed', err);
    }
  };

  Object.defineProperty(document, 'cookie', {
    configurable: true,
    enumerable: true,
    get: () => {
      if (expiresAt && Date.now() >= expiresAt) readSync();
      return copy;
    },
    set: (value: unknown) => {
      const assignment = String(value);
      try {
        const xhr = new NativeXHR();
        xhr.open('POST', endpoint(), false);
        xhr.setRequestHeader('content-type', 'text/plain;charset=utf-8');
        xhr.send(assignment);
        if (xhr.status === 200) take(xhr.responseText, xhr.getResponseHeader('x-cobrowse-cookies-expire'));
      } catch (err) {
        console.debug('[cobrowse] cookie write failed', err);
      }
    },
  });

  return {
    refresh() {
      nativeFetch(endpoint(), { credentials: 'same-origin', cache: 'no-store' })
        .then(async (res) => {
          if (!res.ok) throw new Error(`status ${res.status}`);
          take(await res.text(), res.headers.get('x-cobrowse-cookies-expire'));
        })
        .catch((err: unknown) => console.debug('[cobrowse] cookie refresh failed', err));
    },
  };
}
