// The header the page runtime puts on its requests to the gateway's own endpoints on a proxied
// host (/__cobrowse/cookies, /__cobrowse/map). Every proxied host is the same site to the
// browser, so a page of another of the session's sites (or of another session) sends a host its
// participant cookie: a <script>, <img>, form or no-cors fetch cannot carry this header, and a
// cross-origin request with it needs a CORS preflight, which the gateway never grants for these
// paths (gateway/proxied-host.ts).

/** Request header name (lower case) and its value. */
export const RUNTIME_HEADER = 'x-cobrowse-runtime';
export const RUNTIME_HEADER_VALUE = '1';

/**
 * Methods the gateway's HTTP server (uWS 20.30) takes as they are, case and all: it closes the
 * connection of any other (WebDAV's PROPFIND, REPORT, MKCOL, a lowercase `patch`). The page
 * runtime sends a request of another method to its own host as a POST naming the method in
 * METHOD_HEADER, and the gateway sends the site the request as the page made it.
 */
export const SERVER_METHODS: readonly string[] = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'];
export const METHOD_HEADER = 'x-cobrowse-method';

/** An HTTP method token (RFC 9110 section 5.6.2). */
export const METHOD_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Methods no page can send (fetch and XMLHttpRequest throw), nor the gateway proxy. */
export const FORBIDDEN_METHODS: readonly string[] = ['CONNECT', 'TRACE', 'TRACK'];
