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
export function installCookieShim(initial: string | undefined): CookieShim | null {
  if (initial === undefined) return null;
  // Saved now: the site may patch these later.
  const NativeXHR = XMLHttpRequest;
  const nativeFetch = fetch.bind(window);
  let copy = initial;
  const endpoint = () => `${COOKIE_ENDPOINT}?path=${encodeURIComponent(location.pathname)}`;

  Object.defineProperty(document, 'cookie', {
    configurable: true,
    enumerable: true,
    get: () => copy,
    set: (value: unknown) => {
      const assignment = String(value);
      try {
        const xhr = new NativeXHR();
        xhr.open('POST', endpoint(), false);
        xhr.setRequestHeader('content-type', 'text/plain;charset=utf-8');
        xhr.send(assignment);
        if (xhr.status === 200) copy = xhr.responseText;
      } catch (err) {
        console.debug('[cobrowse] cookie write failed', err);
      }
    },
  });

  return {
    refresh() {
      nativeFetch(endpoint(), { credentials: 'same-origin', cache: 'no-store' })
        .then((res) => (res.ok ? res.text() : Promise.reject(new Error(`status ${res.status}`))))
        .then((text) => {
          copy = text;
        })
        .catch((err: unknown) => console.debug('[cobrowse] cookie refresh failed', err));
    },
  };
}
