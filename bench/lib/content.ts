// Deterministic payloads: what the bench origin serves, and the hub's snapshot and mutation batches.

import { createHash } from 'node:crypto';

/** A small seeded PRNG (mulberry32), so every run serves the same bytes. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function sha256(buf: Uint8Array | string): string {
  return createHash('sha256').update(buf).digest('hex');
}

/** Incompressible bytes standing in for an image. */
export function imageBytes(size: number): Buffer {
  const rnd = prng(42);
  const buf = Buffer.alloc(size);
  for (let i = 0; i < size; i++) buf[i] = Math.floor(rnd() * 256);
  // A PNG signature, for what it is worth.
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(buf);
  return buf;
}

const WORDS = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua'.split(' ');

function words(rnd: () => number, n: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(WORDS[Math.floor(rnd() * WORDS.length)]!);
  return out.join(' ');
}

/** A JSON document of about `size` bytes (an API answer). */
export function jsonBody(size: number): Buffer {
  const rnd = prng(7);
  const items: { id: number; name: string; price: number; tags: string[] }[] = [];
  let text = '';
  for (let i = 0; ; i++) {
    items.push({ id: i, name: words(rnd, 3), price: Math.round(rnd() * 10000) / 100, tags: [words(rnd, 1), words(rnd, 1)] });
    const next = JSON.stringify({ page: 1, items });
    if (next.length > size) break;
    text = next;
  }
  const pad = size - text.length - ',"pad":""'.length;
  return Buffer.from(`${text.slice(0, -1)},"pad":"${'x'.repeat(Math.max(0, pad))}"}`);
}

/** An HTML page of exactly `size` bytes: head with styles and scripts, then product cards. */
export function htmlPage(size: number, title: string): Buffer {
  const rnd = prng(size);
  const head = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="stylesheet" href="/static/site.css">
<link rel="preload" href="/static/font.woff2" as="font" crossorigin>
<script src="/static/app.js" defer></script>
</head>
<body class="page">
<header><nav><a href="/">Home</a> <a href="/products">Products</a> <a href="/account">Account</a></nav></header>
<main><ul class="cards">
`;
  const tail = `</ul></main>
<footer><p>Bench origin</p></footer>
</body>
</html>
`;
  let body = '';
  for (let i = 0; head.length + body.length + tail.length < size - 600; i++) {
    body += `<li class="card" data-id="${i}"><a href="/products/${i}"><img src="/img/p${i % 40}.png" alt="${words(rnd, 2)}" width="120" height="90"></a>
<h3>${words(rnd, 3)}</h3><p class="desc">${words(rnd, 18)}</p><span class="price">${(rnd() * 100).toFixed(2)} EUR</span><button type="button" data-add="${i}">Add to cart</button></li>
`;
  }
  const used = head.length + body.length + tail.length;
  const fill = `<!-- ${'.'.repeat(Math.max(0, size - used - 10))} -->\n`;
  const page = Buffer.from(head + body + fill + tail);
  if (page.length !== size) throw new Error(`htmlPage: built ${page.length} bytes, wanted ${size}`);
  return page;
}

/** The script tag the gateway inserts as the first element of <head>. */
export const INJECT_MARKER = '<script src="/__cobrowse/inject.js"';
const INJECTED_TAG = /<script src="\/__cobrowse\/inject\.js"[^>]*><\/script>/;

/** The page with the injected tag taken out (to compare it with what the origin sent). */
export function withoutInjection(body: Buffer): Buffer {
  return Buffer.from(body.toString('latin1').replace(INJECTED_TAG, ''), 'latin1');
}

// ---- hub payloads ----

/** The text a mutation batch carries so followers can measure latency: `@@ts=<run>:<µs>`. */
export const STAMP_PREFIX = '@@ts=';

/** Monotonic clock shared by every process of the machine (CLOCK_MONOTONIC), in µs. */
export function monoMicros(): number {
  const [s, ns] = process.hrtime();
  return s * 1e6 + ns / 1e3;
}

/** A snapshot of a product-list page: ~60 nodes, about 6 KB. */
export function snapshotMessage(url: string): string {
  let id = 1;
  const txt = (v: string) => ({ t: 'txt', id: id++, v });
  const el = (tag: string, a: Record<string, string>, c: unknown[]) => ({ t: 'el', id: id++, tag, a, c });
  const items = [];
  for (let i = 0; i < 20; i++) items.push(el('li', { class: 'card', 'data-id': String(i) }, [el('h3', {}, [txt(`Product ${i}`)]), txt(' In stock. ')]));
  const tree = {
    t: 'doc',
    id: id++,
    c: [
      el('html', { lang: 'en' }, [
        el('head', {}, [el('title', {}, [txt('Bench page')]), el('link', { rel: 'stylesheet', href: '/static/site.css' }, [])]),
        el('body', { class: 'page' }, [el('p', { id: 'stamp' }, [txt('-')]), el('ul', { class: 'cards', id: 'list' }, items)]),
      ]),
    ],
  };
  return JSON.stringify({ type: 'snapshot', url, title: 'Bench page', viewport: { w: 1280, h: 800 }, tree });
}

const FILLER = words(prng(99), 60);

/**
 * A mutation batch of about 1 KB, as a recorder sends after a small UI change: a text change
 * carrying the stamp, an attribute change, an added list item with text, a removal and a scroll.
 */
export function mutationMessage(runId: number, i: number): string {
  const base = 100_000 + i * 4;
  const batch: unknown[] = [
    { k: 'text', id: 3, v: `${STAMP_PREFIX}${runId}:${Math.round(monoMicros())}` },
    { k: 'attr', id: 5, name: 'class', value: `card is-active row-${i % 10}` },
    {
      k: 'add',
      parent: 7,
      before: null,
      node: {
        t: 'el',
        id: base,
        tag: 'li',
        a: { class: 'card new', 'data-id': `n${i}` },
        c: [
          { t: 'el', id: base + 1, tag: 'h3', a: {}, c: [{ t: 'txt', id: base + 2, v: `New product ${i}` }] },
          { t: 'txt', id: base + 3, v: FILLER.slice(0, 300 + (i % 7)) },
        ],
      },
    },
    { k: 'scroll', id: 1, x: 0, y: (i * 13) % 900 },
  ];
  if (i >= 20) batch.push({ k: 'remove', id: 100_000 + (i - 20) * 4 });
  batch.push({ k: 'attr', id: 9, name: 'aria-label', value: FILLER.slice(0, 220) });
  return JSON.stringify({ type: 'mutations', batch });
}
