// The proxy pipeline for one request on a proxied host, as named passes:
//   resolveTarget -> checkAllowed -> buildUpstreamRequest -> sendUpstream -> storeCookies ->
//   mapResponseHeaders -> streamBody (HTML and CSS decoded, charset found and rewritten, see
//   rewritten-body.ts; scripts' imports mapped, see script-body.ts; worker scripts prefixed with
//   the worker runtime; everything else piped as is).

import { randomBytes } from 'node:crypto';
import { pipeline, Readable } from 'node:stream';
import { charsetOf, encodingForLabel, isTranscoded, setCharset, sniffCharset, utf8From, withCharset } from './charset.js';
import type { GatewayContext } from './context.js';
import { rewriteCsp } from './csp.js';
import { applyDocumentPolicies, upstreamConditions } from './document-sandbox.js';
import { GatewayError } from './errors.js';
import { changedBodyHeaders, downstreamResponseHeaders, mediaType, type RawHeaders, upstreamRequestHeaders } from './header-policy.js';
import { injectionSnippet, injectionTag, type SnippetOptions } from './html-inject.js';
import type { Exchange } from './http-bridge.js';
import { mappedJson } from './json-body.js';
import type { MarkedModule } from './link-header.js';
import { applyClearSiteData, applyCsp, cspContext } from './page-policies.js';
import { BodyEncoder, encodedBodyHeaders, reencodingFor, sendDecodedWhole } from './response-encoding.js';
import { contentKind, sniffedHeaders, sniffs } from './response-kind.js';
import { CssRewriter } from './rewrite/css-rewriter.js';
import { HtmlRewriter } from './rewrite/html-rewriter.js';
import { integrityImportMap } from './rewrite/import-map.js';
import { absoluteUrlForm } from './rewrite/relative-url.js';
import { type ChunkRewriter, codingOf, decodedWhole, isDecodingError, sendRewritten } from './rewritten-body.js';
import { cookieContexts, requestFacts, type SameSiteContext, upstreamFetchSite } from './same-site.js';
import { checkedScript, rewrittenScriptStream, type ScriptRewrite, scriptRequestKind, sendScript } from './script-body.js';
import type { Participant, Session } from './session.js';
import { siteRules } from './site-rules.js';
import { readChecked, takeIntegrityMarker } from './subresource-integrity.js';
import { sendUpstream, type UpstreamResponse, upstreamBodyError, upstreamError } from './upstream.js';
import { type OriginTable, withPathOf } from './url-mapper.js';
import { WorkerPreludeStream } from './worker-prelude.js';

/** Maps a real URL to what the browser should load: the proxied host, or the "not allowed" page. */
export function browserUrlFor(gw: GatewayContext, session: Session, real: URL): string {
  if (gw.allowlist.allows(real)) {
    const mapped = gw.mapper.toProxiedUrl(real, session.id, session.origins);
    if (mapped) return mapped;
  }
  return `${gw.mapper.gatewayOrigin}/blocked?url=${encodeURIComponent(real.href)}`;
}

/** Content a mirror of the page renders: images, style sheets, fonts, media and text tracks. */
function isRenderedAsset(contentType: string | string[] | undefined): boolean {
  const type = mediaType(contentType);
  return (
    /^(image|font|audio|video)\//.test(type) ||
    type === 'text/css' ||
    type === 'text/vtt' ||
    type === 'application/vnd.ms-fontobject' ||
    /^application\/(x-)?font-/.test(type)
  );
}

/**
 * document.cookie for the injected script, and when it must be read again. A memory jar answers
 * from the view it read for the request unless a cookie changed or expired since (cookie-jar.ts).
 */
async function scriptCookiesOf(session: Session, target: URL, context: SameSiteContext): Promise<{ cookies: string; cookiesExpire: number | null }> {
  const view = await session.jar.scriptView(target, context);
  return { cookies: view.cookies, cookiesExpire: view.expires };
}

/** proxiedOriginTable's last answer per session's table, with the table's size then. */
const originTables = new WeakMap<OriginTable, { size: number; table: Readonly<Record<string, string>> }>();

/**
 * The session's origin table as real origin -> proxied origin, for the page's URL runtime: the
 * same frozen object until the session labels another origin (the injected tag's serialization of
 * it is remembered too, html-inject.ts), instead of a new one per page.
 */
export function proxiedOriginTable(gw: GatewayContext, session: Session): Readonly<Record<string, string>> {
  const known = originTables.get(session.origins);
  if (known && known.size === session.origins.size) return known.table;
  const table: Record<string, string> = {};
  for (const [label, origin] of session.origins.entries()) table[origin] = gw.mapper.proxiedOrigin({ label, sessionId: session.id });
  Object.freeze(table);
  originTables.set(session.origins, { size: session.origins.size, table });
  return table;
}

/** Proxied origins of the session whose hosts do not hold this participant's cookie yet. */
function notEnteredOrigins(gw: GatewayContext, session: Session, participant: Participant): string[] {
  return session.origins
    .entries()
    .filter(([label]) => !participant.enteredLabels.has(label))
    .map(([label]) => gw.mapper.proxiedOrigin({ label, sessionId: session.id }));
}

/** The mask selectors configured for the site a session's origin label belongs to. */
export function maskSelectorsFor(gw: GatewayContext, session: Session, label: string): string[] {
  const origin = session.origins.originOf(label);
  return origin ? siteRules(gw.sites, new URL(origin)).mask : [];
}

/** One upstream identity per session: the host's User-Agent and Accept-Language for everyone's requests. */
function applyUpstreamIdentity(session: Session, participant: Participant | null, headers: Record<string, string>): void {
  if (participant?.role === 'host') {
    session.setUpstreamIdentity(headers['user-agent'], headers['accept-language']);
    return;
  }
  const { userAgent, acceptLanguage } = session.upstreamIdentity;
  if (userAgent !== undefined) headers['user-agent'] = userAgent;
  if (acceptLanguage !== undefined) headers['accept-language'] = acceptLanguage;
}

function resolveTarget(session: Session, label: string, path: string): URL {
  const origin = session.origins.originOf(label);
  if (!origin) throw new GatewayError('NOT_FOUND', 404, 'This session has no such site.');
  const q = path.indexOf('?');
  return q === -1 ? withPathOf(origin, path) : withPathOf(origin, path.slice(0, q), path.slice(q));
}

/** Refuses a target off the allowlist (counted where the error is answered: proxied-host.ts). */
function checkAllowed(gw: GatewayContext, target: URL): void {
  if (!gw.allowlist.allows(target)) throw new GatewayError('SITE_NOT_ALLOWED', 403, gw.allowlist.refusal(target));
}

/** How a script's imports are mapped (like URLs in markup, against the script's own URL), and whether its references to the top window are wrapped. */
function scriptRewrite(gw: GatewayContext, session: Session, request: Exchange['request'], headers: RawHeaders, target: URL): ScriptRewrite {
  return {
    module: scriptRequestKind(request.headers) !== 'classic',
    charset: charsetOf(headers),
    mapSpecifier: (url) => markupUrl(gw, session, target, url),
    url: target.href,
    // A window's script (workers and worklets have no top window).
    top: request.headers['sec-fetch-dest'] === 'script' || request.headers['sec-fetch-dest'] === undefined,
  };
}

/**
 * The injected script's tag, followed by an import map for each module a Link header preloads by
 * its integrity-marked URL (its plain imports get the checked record; see rewrite/import-map.ts):
 * both at the start of <head>, before any module script of the page.
 */
function withModuleMaps(modules: readonly MarkedModule[], nonce: string | null, options: SnippetOptions): Buffer {
  const snippet = injectionSnippet(options);
  const maps = modules.map((m) => integrityImportMap(m.url, m.marked, { nonce, baseUrl: null, pageKeys: [] }) ?? '').join('');
  return maps === '' ? snippet : Buffer.concat([snippet, Buffer.from(maps, 'latin1')]);
}

/** markupUrl for what `base` holds: it keeps every relative URL, so the rewriters need not decode nor ask about those. */
function mapUrlIn(gw: GatewayContext, session: Session, base: URL): (url: string) => string | null {
  return (url) => markupUrl(gw, session, base, url);
}

/** `scheme://authority` (or `//authority`) at the start of a URL as written; the rest is kept as written. */
const WRITTEN_AUTHORITY = /^(?:[a-z][a-z0-9+.-]*:)?[\\/]{2}[^\\/?#]*/i;

/**
 * What a URL in a page or stylesheet becomes: relative URLs stay (each origin has its own proxied
 * host, so they resolve there); absolute http(s) URLs go to their proxied host, or to the gateway's
 * "not allowed" page; other schemes (data:, mailto:) stay. Only the scheme and authority are
 * replaced: path, query and fragment stay as written, so that the browser encodes them with the
 * document's charset as it would on the real site.
 */
export function markupUrl(gw: GatewayContext, session: Session, base: URL, url: string): string | null {
  // As the browser reads it: `ht<LF>tps://x`, `/\x` and `<U+0001>//x` lead to other hosts too.
  const trimmed = absoluteUrlForm(url);
  if (trimmed === null) return null;
  let real: URL;
  try {
    real = new URL(trimmed, base);
  } catch {
    return null;
  }
  if (real.protocol !== 'http:' && real.protocol !== 'https:') return null;
  const mapped = browserUrlFor(gw, session, real);
  const authority = WRITTEN_AUTHORITY.exec(trimmed);
  if (!authority || mapped.startsWith(`${gw.mapper.gatewayOrigin}/`)) return mapped;
  return `${new URL(mapped).origin}${trimmed.slice(authority[0].length)}`;
}

/**
 * Proxies one request of a participant to the session's origin `label`. The request body must
 * have been taken (exchange.readBody) synchronously by the caller.
 */
export async function proxyRequest(
  gw: GatewayContext,
  exchange: Exchange,
  session: Session,
  participant: Participant | null,
  label: string,
  body: Readable | null,
  options: { assetsOnly?: boolean } = {},
): Promise<void> {
  const { request } = exchange;
  // The integrity of a stylesheet the rewriter moved into its URL: checked here, never sent upstream.
  const { target: requestTarget, integrity } = takeIntegrityMarker(request.url);
  const target = resolveTarget(session, label, requestTarget);
  Object.assign(exchange.annotations, { participantId: participant?.id, role: participant?.role, origin: target.origin });
  checkAllowed(gw, target);

  // undici would take any answer to CONNECT for a tunnel: the gateway proxies no tunnels.
  if (request.method === 'CONNECT') throw new GatewayError('METHOD_NOT_ALLOWED', 405, 'CONNECT is not proxied.');
  // A site answering TRACE echoes the request it got: the session's cookies from the jar, HttpOnly
  // ones too, which no participant's script may read. Browsers never send it (a forbidden method).
  // (TRACK never gets here: uWS closes the connection of a method it does not know.)
  if (request.method === 'TRACE') throw new GatewayError('METHOD_NOT_ALLOWED', 405, "TRACE is not proxied: its echo would show the session's cookies.");
  const toReal = (u: URL) => gw.mapper.toRealUrl(u, session.id, session.origins);
  // The browser sees one site in all of the session's hosts: the jar applies SameSite from the
  // request's real initiator and Fetch Metadata (same-site.ts), and Sec-Fetch-Site is rebuilt from them.
  const facts = requestFacts(request.headers, request.method, target, toReal);
  const sameSite = cookieContexts(facts);
  // Without a participant (a CORS preflight) the jar is neither read nor written.
  const jarCookie = participant ? await session.jar.cookieHeader(target, sameSite.request) : '';
  const headers = upstreamRequestHeaders(request.headers, toReal, jarCookie, upstreamFetchSite(facts));
  applyUpstreamIdentity(session, participant, headers);
  upstreamConditions(request.headers, headers);

  let upstream: UpstreamResponse;
  const started = performance.now();
  try {
    upstream = await sendUpstream(
      gw.agent,
      { origin: target.origin, path: `${target.pathname}${target.search}`, method: request.method, headers, body },
      exchange,
    );
  } catch (err) {
    body?.destroy();
    const failure = upstreamError(err, target);
    gw.metrics?.upstreamFailed(failure.code);
    throw failure;
  }

  if (exchange.annotations.tunneled === true && (upstream.statusCode === 301 || upstream.statusCode === 302)) {
    // The browser sent a POST for the page's method: on a 301 or 302 it would follow with a GET,
    // where directly it repeats the method (only a POST becomes a GET). 308 and 307 mean the same
    // for any other method and keep the request as it is.
    upstream.statusCode = upstream.statusCode === 301 ? 308 : 307;
    upstream.statusText = upstream.statusCode === 308 ? 'Permanent Redirect' : 'Temporary Redirect';
  }
  exchange.siteReason = { status: upstream.statusCode, text: upstream.statusText };
  // From here the response's body is ours: whatever fails before it was read lets go of it (a
  // paused body would otherwise hold its connection: undici's body timeout sleeps while paused).
  try {
    const raw = sniffs(upstream, request) ? await sniffedHeaders(upstream) : upstream.headers;
    const mapped = downstreamResponseHeaders(raw, target, (real) => browserUrlFor(gw, session, real));
    if (mapped.setCookies.length > 0 && participant) {
      const { refused } = await session.jar.store(mapped.setCookies, target, sameSite.response);
      if (refused > 0) {
        gw.log.debug('cookies refused by jar', {
          sessionId: session.id,
          participantId: participant.id,
          role: participant.role,
          origin: target.origin,
          refused,
        });
      }
    }
    await applyClearSiteData(session, mapped.headers, target, participant !== null);
    if (options.assetsOnly && upstream.statusCode >= 200 && upstream.statusCode < 300 && !isRenderedAsset(raw['content-type'])) {
      throw new GatewayError('FORBIDDEN', 403, "A follower's view loads the page's images, styles, fonts and media only; the host's page reads the rest.");
    }
    const { nonce, inlineScripts } = applyCsp(gw, session, label, target, mapped.headers);
    // Only a participant's request keeps the session alive: a cookie-less one can come from anyone who knows a host name.
    if (participant) session.touch();
    // The access-log line ("proxied", written when the body is sent) carries these; see server.ts.
    const upstreamSeconds = (performance.now() - started) / 1000;
    exchange.annotations.upstreamMs = Math.round(upstreamSeconds * 1000);

    const encoding = String(raw['content-encoding'] ?? '');
    const rewritten = contentKind(raw, request, upstream.statusCode);
    const decoder = rewritten === 'other' ? 'unsupported' : codingOf(encoding);
    const kind = decoder === 'unsupported' || request.method === 'HEAD' ? 'other' : rewritten;
    exchange.annotations.kind = kind;
    gw.metrics?.proxiedResponse(upstream.statusCode, kind, upstreamSeconds);
    applyDocumentPolicies(exchange, mapped.headers, raw, upstream.statusCode, rewritten === 'html' && decoder !== 'unsupported');
    let checked: Buffer | null = null;
    if (integrity !== null && request.method !== 'HEAD' && upstream.statusCode >= 200 && upstream.statusCode < 300) {
      const plain = codingOf(encoding);
      const body = plain === 'unsupported' ? null : plain ? (await decodedWhole(upstream.body, plain)).body : upstream.body;
      checked = await readChecked(body, integrity).catch((err: unknown) => {
        upstream.body.destroy();
        const what = rewritten === 'script' || rewritten === 'worker' ? 'script' : 'stylesheet';
        gw.log.warn(`${what} refused: integrity`, { sessionId: session.id, participantId: participant?.id, role: participant?.role, origin: target.origin });
        throw err;
      });
      // Checked whole, so decoded: it leaves compressed again when the site had compressed it (response-encoding.ts).
      const coding = reencodingFor(encoding, request.headers['accept-encoding']);
      if (kind === 'script') {
        const out = checkedScript(checked, mapped.headers, scriptRewrite(gw, session, request, raw, target));
        await sendDecodedWhole(exchange, upstream.statusCode, out.headers, out.body, coding);
        return;
      }
      // Rule sets and manifests checked are mapped below as any (a marked URL must not bring the site's URLs unmapped).
      if (kind !== 'css' && kind !== 'worker' && kind !== 'rules' && kind !== 'manifest') {
        await sendDecodedWhole(exchange, upstream.statusCode, changedBodyHeaders(mapped.headers), checked, coding);
        return;
      }
    }
    if (kind === 'script') {
      const started = performance.now();
      const length = raw['content-length'] === undefined ? null : Number(raw['content-length']);
      const rewrite = scriptRewrite(gw, session, request, raw, target);
      const coding = reencodingFor(encoding, request.headers['accept-encoding']);
      const sent = await sendScript(
        exchange,
        upstream.statusCode,
        mapped.headers,
        upstream.body,
        encoding,
        Number.isFinite(length) ? length : null,
        rewrite,
        coding,
      );
      exchange.annotations.script = sent.outcome;
      exchange.annotations.scriptStreamed = sent.streamed;
      exchange.annotations.rewriteMs = Math.round((performance.now() - started) * 100) / 100;
      return;
    }
    if (kind === 'rules' || kind === 'manifest') {
      const decoded = checked ? [checked] : decoder && decoder !== 'unsupported' ? (await decodedWhole(upstream.body, decoder)).body : upstream.body;
      const json = await mappedJson(kind, decoded, mapUrlIn(gw, session, target));
      if (!json.whole) upstream.body.destroy();
      const coding = reencodingFor(encoding, request.headers['accept-encoding']);
      await sendDecodedWhole(exchange, upstream.statusCode, changedBodyHeaders(mapped.headers), json.body, coding);
      return;
    }
    if (decoder === 'unsupported' || request.method === 'HEAD') {
      // A HEAD of a body the gateway rewrites answers with a GET's headers (changedBodyHeaders, and
      // the coding a GET would come in) and no length: the site's is not the rewritten body's,
      // which is not known before it is made.
      const changes = decoder !== 'unsupported';
      const length = changes || raw['content-length'] === undefined ? null : Number(raw['content-length']);
      const status = upstream.statusCode;
      const coding = changes && status >= 200 && status !== 204 && status !== 304 ? reencodingFor(encoding, request.headers['accept-encoding']) : null;
      const changed = changes ? changedBodyHeaders(mapped.headers) : mapped.headers;
      await exchange.sendStream(
        status,
        coding === null ? changed : encodedBodyHeaders(changed, coding),
        upstream.body,
        Number.isFinite(length) ? length : null,
      );
      return;
    }

    const headersOut = changedBodyHeaders(mapped.headers);
    const mapUrl = mapUrlIn(gw, session, target);
    const onStreamError = (err: Error | null) => {
      if (err && !exchange.finished) {
        const who = { sessionId: session.id, participantId: participant?.id, role: participant?.role };
        gw.log.warn('html stream failed', { ...who, origin: target.origin, kind, error: err.message });
      }
    };
    let source: AsyncIterable<Buffer> = upstream.body;
    let decodedLength: number | null = null;
    if (checked) source = Readable.from([checked]);
    else if (decoder) ({ body: source, length: decodedLength } = await decodedWhole(upstream.body, decoder));
    if (kind === 'worker') {
      const settings = {
        origin: target.origin,
        origins: participant ? proxiedOriginTable(gw, session) : {},
        enter: participant ? notEnteredOrigins(gw, session, participant) : [],
      };
      // Module workers' imports are requested as workers too: their imports are mapped here.
      const script = await rewrittenScriptStream(source, scriptRewrite(gw, session, request, raw, target));
      const out = (pipeline as (...streams: unknown[]) => Readable)(script, new WorkerPreludeStream(gw.workerBundle, settings), onStreamError);
      await exchange.sendStream(upstream.statusCode, headersOut, out, null);
      return;
    }
    let charset = charsetOf(raw);
    if (charset === undefined) {
      // No charset in the header: the body's BOM or its own declaration, as the browser would find them.
      const sniffed = await sniffCharset(source, kind === 'css' ? 'css' : 'html');
      source = sniffed.body;
      charset = sniffed.charset ?? undefined;
      if (sniffed.source === 'declaration') withCharset(headersOut, sniffed.charset);
    }
    // UTF-16 and ISO-2022-JP (the rewriters read ASCII-compatible, stateless bytes): the page or
    // stylesheet goes on as UTF-8.
    const transcoded = isTranscoded(charset);
    const formCharset = transcoded && kind === 'html' && encodingForLabel(charset!) === 'iso-2022-jp' ? 'ISO-2022-JP' : undefined;
    if (transcoded) {
      source = utf8From(source, charset!);
      charset = 'utf-8';
      setCharset(headersOut, 'utf-8');
    }
    const site = kind === 'html' ? siteRules(gw.sites, target) : undefined;
    const rewriter: ChunkRewriter =
      kind === 'css'
        ? new CssRewriter(mapUrl, { charset, relativeUrlsStay: true })
        : new HtmlRewriter({
            mapUrl,
            charset,
            relativeUrlsStay: true,
            scripts: { inlineScripts, nonce, baseUrl: `${gw.mapper.proxiedOrigin({ label, sessionId: session.id })}${requestTarget}` },
            // A policy in <meta http-equiv>: mapped as the header's (it rules what follows it: the
            // runtime's connections too), with the response's nonce, which the inline scripts the
            // gateway rewrites after it carry (so the page can read that nonce in the meta's content).
            metaPolicy: (policy) => rewriteCsp(policy, cspContext(gw, session, label, target, nonce ?? randomBytes(16).toString('base64'))),
            // A data: frame's document (opaque origin): the runtime from this host, with the origins known when the frame is met.
            dataDocumentTag: participant
              ? () =>
                  injectionTag({
                    nonce,
                    origin: 'null',
                    gateway: gw.mapper.proxiedOrigin({ label, sessionId: session.id }),
                    origins: proxiedOriginTable(gw, session),
                  })
              : null,
            snippet: withModuleMaps(mapped.markedModules, nonce, {
              nonce,
              // The session's origin `label` is target's origin: the site's settings, found once.
              mask: site?.mask ?? [],
              // An answer to a request without a participant (a CORS read the page's script gets as
              // text) carries none of the session's cookies nor its origins.
              ...(participant ? await scriptCookiesOf(session, target, sameSite.script) : { cookies: '', cookiesExpire: null }),
              origin: target.origin,
              origins: participant ? proxiedOriginTable(gw, session) : {},
              enter: participant ? notEnteredOrigins(gw, session, participant) : [],
              hostOnly: site?.hostOnly ?? [],
              hostOnlyUrls: site?.hostOnlyUrls ?? [],
              formCharset,
            }),
          });
    // Known when the body is here whole (checked, or decoded at once) or came plain with its length.
    const plainLength = decoder === null && raw['content-length'] !== undefined ? Number(raw['content-length']) : null;
    const length = checked ? checked.length : transcoded ? null : decoder ? decodedLength : plainLength;
    // What the site compressed leaves compressed again (response-encoding.ts); a 304 or 204 has no body to say it of.
    const status = upstream.statusCode;
    const coding = status >= 200 && status !== 204 && status !== 304 ? reencodingFor(encoding, request.headers['accept-encoding']) : null;
    const hooks = {
      onDone: (seconds: number) => {
        exchange.annotations.rewriteMs = Math.round(seconds * 100_000) / 100;
        gw.metrics?.htmlRewritten(seconds);
      },
      onError: (err: Error) => onStreamError(err),
    };
    const bodyLength = length !== null && Number.isFinite(length) ? length : null;
    const headersSent = coding === null ? headersOut : encodedBodyHeaders(headersOut, coding);
    await sendRewritten(exchange, status, headersSent, source, rewriter, bodyLength, hooks, coding === null ? null : new BodyEncoder(coding));
  } catch (err) {
    upstream.body.destroy();
    if (isDecodingError(err)) {
      throw new GatewayError(
        'UPSTREAM_FAILED',
        502,
        `${target.origin} sent a body that could not be decoded (content encoding ${String(upstream.headers['content-encoding'] ?? 'none')}).`,
        { cause: err },
      );
    }
    throw upstreamBodyError(err, target) ?? err;
  }
}
