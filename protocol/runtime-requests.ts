// The header the page runtime puts on its requests to the gateway's own endpoints on a proxied
// host (/__cobrowse/cookies, /__cobrowse/map). Every proxied host is the same site to the
// browser, so a page of another of the session's sites (or of another session) sends a host its
// participant cookie: a <script>, <img>, form or no-cors fetch cannot carry this header, and a
// cross-origin request with it needs a CORS preflight, which the gateway never grants for these
// paths (gateway/proxied-host.ts).

/** Request header name (lower case) and its value. */
export const RUNTIME_HEADER = 'x-cobrowse-runtime';
export const RUNTIME_HEADER_VALUE = '1';
