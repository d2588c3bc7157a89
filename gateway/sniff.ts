// A document the site sends without a type: the browser sniffs it (WHATWG MIME Sniffing, "rules
// for identifying an unknown MIME type"), and renders HTML when its first bytes look like markup.
// The gateway reads the same bytes the same way, so that such a page is rewritten and gets the
// sync script as it would with its type, instead of running unmapped (its absolute links and
// resources going to the real site) with nobody following it.

/** How many of the body's first bytes the browser looks at (the spec's resource header). */
export const SNIFF_BYTES = 1445;

/** The supplied types the browser sniffs past: none, or one that says it does not know. */
export function sniffsType(contentType: string | string[] | undefined, noSniff: boolean): boolean {
  if (noSniff) return false;
  if (contentType === undefined) return true;
  const type = String(Array.isArray(contentType) ? contentType[0] : contentType)
    .split(';')[0]!
    .trim()
    .toLowerCase();
  return type === '' || type === 'unknown/unknown' || type === 'application/unknown' || type === '*/*';
}

/** The spec's HTML patterns: each is matched without case and must end with a space or `>`. */
const HTML_STARTS = [
  '<!doctype html',
  '<html',
  '<head',
  '<script',
  '<iframe',
  '<h1',
  '<div',
  '<font',
  '<table',
  '<a',
  '<style',
  '<title',
  '<b',
  '<body',
  '<br',
  '<p',
  '<!--',
].map((s) => Buffer.from(s, 'latin1'));

/** True when the browser would sniff `head` (all the bytes it gets to look at) as text/html. */
export function sniffsAsHtml(head: Buffer): boolean {
  return htmlVerdict(head, true) === true;
}

/**
 * Whether `head`, the body's first bytes, sniffs as text/html; null while more bytes could still
 * decide it (a pattern begun but not complete), unless `final` (the body ended, or the browser
 * looks no further). Decided as early as the bytes allow, so a page that sends its first bytes
 * and then waits is not held.
 */
export function htmlVerdict(head: Buffer, final: boolean): boolean | null {
  let at = 0;
  // Leading whitespace (HT, LF, FF, CR, space) is skipped; a byte order mark is not.
  while (at < head.length && (head[at] === 0x09 || head[at] === 0x0a || head[at] === 0x0c || head[at] === 0x0d || head[at] === 0x20)) at++;
  if (at === head.length) return final ? false : null;
  let open = false;
  for (const start of HTML_STARTS) {
    const end = at + start.length;
    let same = true;
    for (let i = 0; i < start.length && same && at + i < head.length; i++) {
      const b = head[at + i]!;
      same = (b >= 0x41 && b <= 0x5a ? b | 0x20 : b) === start[i];
    }
    if (!same) continue;
    if (end >= head.length) open = true;
    else if (head[end] === 0x20 || head[end] === 0x3e) return true;
  }
  return open && !final ? null : false;
}
