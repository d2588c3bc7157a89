import { describe, expect, it } from 'vitest';
import { rewriteHtml } from '../../gateway/rewrite/html-rewriter.js';
import { decodeDataUrl } from '../../protocol/data-url.js';

const O2 = 'http://o2--sess.localhost';
const TAG = `<script src="${O2}/__cobrowse/inject.js" data-cobrowse="" data-origin="null"></script>`;

function mapUrl(url: string): string | null {
  const m = /^(?:https?:)?\/\/cdn\.test/i.exec(url.trim());
  return m ? `${O2}${url.trim().slice(m[0].length)}` : null;
}

const rw = (html: string, tag = true) => rewriteHtml(html, { mapUrl, relativeUrlsStay: true, dataDocumentTag: tag ? () => TAG : null });

/** The data: URLs of a rewritten page's frames, decoded: [media type, document]. */
function frames(html: string): [string, string][] {
  return [...html.matchAll(/(?:src|data)="(data:[^"]*)"/g)].map((m) => {
    const body = decodeDataUrl(m[1] ?? '');
    return [body?.type ?? '', Buffer.from(body?.bytes ?? []).toString('utf8')];
  });
}

describe('HTML data: documents of frames in a page', () => {
  it('are rewritten as documents of their own, with the runtime first, in iframe, frame, embed and object', () => {
    const doc = '<!doctype html><img src="https://cdn.test/a.png"><a href="/rel">r</a>';
    const page = ['iframe src', 'frame src', 'embed src', 'object data']
      .map((t) => {
        const [tag, attr] = t.split(' ');
        return `<${tag} ${attr}="data:text/html,${encodeURIComponent(doc)}"></${tag}>`;
      })
      .join('');
    const out = rw(page);
    const expected = `<!doctype html>${TAG}<img src="${O2}/a.png"><a href="/rel">r</a>`;
    expect(frames(out)).toEqual(Array(4).fill(['text/html;charset=utf-8;cobrowse=1', expected]));
  });

  it('reads base64 and the declared charset, keeps the fragment, and nests', () => {
    const inner = `data:text/html;base64,${Buffer.from('<p style="background:url(//cdn.test/b.png)">').toString('base64')}`;
    const latin1 = `data:text/html;charset=windows-1252,%E9t%E9<iframe src="${inner}"></iframe>#part`;
    const out = rw(`<iframe src='${latin1}'></iframe>`);
    const [outer] = frames(out.replace(/'/g, '"'));
    expect(outer?.[1]).toMatch(new RegExp(`^${TAG.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}été<iframe src="data:text/html;charset=utf-8;cobrowse=1;base64,`));
    expect(out).toMatch(/#part'><\/iframe>$/);
    expect(frames(outer?.[1] ?? '')[0]?.[1]).toBe(`${TAG}<p style="background:url(${O2}/b.png)">`);
  });

  it('are left as they are when not HTML, marked as mapped already, or unreadable; without a tag only the markup is mapped', () => {
    for (const page of [
      '<iframe src="data:text/plain,https://cdn.test/x"></iframe>',
      '<img src="data:text/html,<img src=https://cdn.test/x>">',
      '<iframe src="data:text/html;cobrowse=1,<img src=https://cdn.test/x>"></iframe>',
      '<iframe src="data:text/html;base64,%%%"></iframe>',
    ])
      expect(rw(page), page).toBe(page);
    const out = rw('<iframe src="data:text/html,<img src=https://cdn.test/x>"></iframe>', false);
    expect(frames(out)).toEqual([['text/html;charset=utf-8;cobrowse=1', `<img src=${O2}/x>`]]);
    expect(rw('<iframe src="data:text/html,<p>nothing to map</p>"></iframe>', false)).toBe('<iframe src="data:text/html,<p>nothing to map</p>"></iframe>');
  });

  it('wrap references to the top window (the runtime in them has the hook), also in a srcdoc document', () => {
    const doc = '<script>top.location.href = "https://cdn.test/x"</script><a onclick="top.location = 1">a</a>';
    const [frame] = frames(rw(`<iframe src="data:text/html,${encodeURIComponent(doc)}"></iframe>`));
    expect(frame?.[1]).toContain('__cobrowseTop(top).location.href');
    expect(frame?.[1]).toContain('onclick="__cobrowseTop(top).location = 1"');
    // Without the runtime (no tag) they stay, as in srcdoc documents.
    expect(frames(rw(`<iframe src="data:text/html,${encodeURIComponent(`${doc}<img src=https://cdn.test/i>`)}"></iframe>`, false))[0]?.[1]).toContain(
      '<script>top.location.href',
    );
    const srcdoc = rw(`<iframe srcdoc="<iframe src='data:text/html,<img src=https://cdn.test/y>'></iframe>"></iframe>`);
    const inner = /src='(data:[^']*)'/.exec(srcdoc.replace(/&#39;|&quot;/g, "'"))?.[1] ?? '';
    expect(Buffer.from(decodeDataUrl(inner)?.bytes ?? []).toString('utf8')).toBe(`${TAG}<img src=${O2}/y>`);
  });

  it('are read as the browser reads them: tabs and newlines dropped from the URL, a byte order mark first, UTF-16 in <meta> as UTF-8', () => {
    const tabbed = 'da\tta:text/html,<scr\nipt src=https://cdn.test/s.js></scr\nipt>';
    expect(frames(rw(`<iframe src="${tabbed}"></iframe>`))[0]?.[1]).toBe(`${TAG}<script src=${O2}/s.js></script>`);
    const bom = `data:text/html;charset=windows-1252;base64,${Buffer.from('\ufeff<p>é</p><img src=https://cdn.test/b>').toString('base64')}`;
    expect(frames(rw(`<iframe src="${bom}"></iframe>`))[0]?.[1]).toBe(`${TAG}<p>é</p><img src=${O2}/b>`);
    for (const label of ['utf-16', 'unicodefeff', 'csunicode']) {
      const meta = `data:text/html,${encodeURIComponent(`<meta charset=${label}><p>é</p><img src=https://cdn.test/m>`)}`;
      expect(frames(rw(`<iframe src="${meta}"></iframe>`))[0]?.[1], label).toBe(`${TAG}<meta charset=${label}><p>é</p><img src=${O2}/m>`);
    }
    // A media type charset that names no encoding is passed over, as the browser does.
    const bogus = `data:text/html;charset=bogus,${encodeURIComponent('<meta charset=utf-8><p>é</p><img src=https://cdn.test/u>')}`;
    expect(frames(rw(`<iframe src="${bogus}"></iframe>`))[0]?.[1]).toBe(`${TAG}<meta charset=utf-8><p>é</p><img src=${O2}/u>`);
  });
});
