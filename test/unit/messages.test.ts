import { describe, expect, it } from 'vitest';
import {
  type ClientMessage,
  encodeMessage,
  FOLLOWER_MAX_MESSAGE_BYTES,
  isVersionRefusal,
  MAX_BATCH,
  MAX_EDIT_PARTS,
  MAX_MESSAGE_BYTES,
  MAX_SPLICE_CHARS,
  MAX_TREE_DEPTH,
  MAX_VALUE_CHARS,
  type Mutation,
  PROTOCOL_VERSION,
  parseClientMessage,
  parseServerMessage,
  type SerializedNode,
  type ServerMessage,
  VERSION_MISMATCH,
} from '../../protocol/messages.js';

const TREE: SerializedNode = {
  t: 'doc',
  id: 0,
  c: [
    { t: 'dt', id: 1, name: 'html', pub: '', sys: '' },
    {
      t: 'el',
      id: 2,
      tag: 'html',
      a: { lang: 'en' },
      c: [
        { t: 'el', id: 3, tag: 'head', a: {}, c: [{ t: 'cm', id: 4, v: ' comment ' }] },
        {
          t: 'el',
          id: 5,
          tag: 'body',
          a: { class: 'main page', 'data-x': '"quoted" <b>', 'aria-label': '' },
          c: [
            { t: 'txt', id: 6, v: 'Hello ✓' },
            { t: 'el', id: 7, tag: 'svg', ns: 'svg', a: { viewBox: '0 0 10 10', 'xlink:href': '#a' }, c: [] },
            { t: 'el', id: 8, tag: 'math', ns: 'math', a: {}, c: [] },
            { t: 'el', id: 9, tag: 'my-element', a: { '@click': 'x', ':bind': 'y' }, c: [] },
          ],
        },
      ],
    },
  ],
};

const BATCH: Mutation[] = [
  { k: 'add', parent: 5, before: null, node: { t: 'el', id: 10, tag: 'p', a: {}, c: [{ t: 'txt', id: 11, v: 'new' }] } },
  { k: 'add', parent: 5, before: 6, node: { t: 'txt', id: 12, v: 'first' } },
  { k: 'remove', id: 7 },
  { k: 'attr', id: 2, name: 'class', value: 'dark' },
  { k: 'attr', id: 2, name: 'lang', value: null },
  { k: 'text', id: 6, v: 'Bye' },
];

const CLIENT_MESSAGES: ClientMessage[] = [
  { type: 'hello', v: PROTOCOL_VERSION, mode: 'live' },
  { type: 'hello', v: PROTOCOL_VERSION, mode: 'mirror', lastSeq: 0 },
  { type: 'hello', v: PROTOCOL_VERSION, mode: 'mirror', lastSeq: 41 },
  { type: 'snapshot', url: 'http://o1--abcdefghijklmnopqrstuvwxyz.localhost:8080/', title: 'Shop', viewport: { w: 1280, h: 800 }, tree: TREE },
  { type: 'snapshot', url: '', title: '', viewport: { w: 0, h: 0 }, tree: { t: 'doc', id: 0, c: [] } },
  { type: 'mutations', batch: BATCH },
  { type: 'mutations', batch: [] },
];

const SERVER_MESSAGES: ServerMessage[] = [
  { type: 'welcome', v: PROTOCOL_VERSION, sessionId: 'abcdefghijklmnopqrstuvwxyz', participantId: 'p0123456789ab', role: 'host' },
  { type: 'welcome', v: PROTOCOL_VERSION, sessionId: 's', participantId: 'p', role: 'controller' },
  { type: 'welcome', v: PROTOCOL_VERSION, sessionId: 's', participantId: 'p', role: 'observer' },
  { type: 'snapshot', seq: 1, url: 'https://example.com/', title: 'Example', viewport: { w: 375.5, h: 667 }, tree: TREE },
  { type: 'mutations', seq: 2, batch: BATCH },
  { type: 'request-snapshot' },
  { type: 'waiting-for-host' },
  { type: 'ended', reason: 'The host ended the session.' },
  { type: 'error', code: 'BAD_MESSAGE', message: 'tree.id: expected a node id' },
];

function clientError(message: unknown): string {
  const parsed = parseClientMessage(typeof message === 'string' ? message : JSON.stringify(message));
  if (parsed.ok) throw new Error(`expected ${JSON.stringify(message).slice(0, 200)} to be refused`);
  return parsed.error;
}

function serverError(message: unknown): string {
  const parsed = parseServerMessage(typeof message === 'string' ? message : JSON.stringify(message));
  if (parsed.ok) throw new Error(`expected ${JSON.stringify(message).slice(0, 200)} to be refused`);
  return parsed.error;
}

function chain(depth: number): SerializedNode {
  let node: SerializedNode = { t: 'txt', id: depth, v: 'leaf' };
  for (let d = depth - 1; d >= 0; d--) node = d === 0 ? { t: 'doc', id: 0, c: [node] } : { t: 'el', id: d, tag: 'div', a: {}, c: [node] };
  return node;
}

function snapshotWith(tree: unknown): Record<string, unknown> {
  return { type: 'snapshot', url: 'https://example.com/', title: 't', viewport: { w: 100, h: 100 }, tree };
}

function docWith(child: unknown): Record<string, unknown> {
  return snapshotWith({ t: 'doc', id: 0, c: [child] });
}

describe('round trips', () => {
  it.each(CLIENT_MESSAGES.map((m) => [m.type, m] as const))('client %s', (_type, message) => {
    const text = encodeMessage(message);
    expect(JSON.parse(text)).toEqual(message);
    expect(parseClientMessage(text)).toEqual({ ok: true, value: message });
  });

  it.each(SERVER_MESSAGES.map((m) => [m.type, m] as const))('server %s', (_type, message) => {
    const text = encodeMessage(message);
    expect(parseServerMessage(text)).toEqual({ ok: true, value: message });
  });
});

describe('refused input of any kind', () => {
  it.each(['', 'not json', '{', '{"type":"hello",}', "{'type':'hello'}", 'undefined'])('invalid JSON %j', (text) => {
    expect(parseClientMessage(text)).toEqual({ ok: false, error: 'message is not valid JSON' });
    expect(parseServerMessage(text)).toEqual({ ok: false, error: 'message is not valid JSON' });
  });

  it.each(['null', '[]', '42', '"hello"', 'true'])('a JSON value that is not an object: %s', (text) => {
    expect(clientError(text)).toMatch(/^message: /);
    expect(serverError(text)).toMatch(/^message: /);
  });

  it('a message above MAX_MESSAGE_BYTES', () => {
    const text = JSON.stringify({ type: 'mutations', batch: [], pad: 'x'.repeat(MAX_MESSAGE_BYTES) });
    expect(clientError(text)).toContain(String(MAX_MESSAGE_BYTES));
  });

  it.each([
    {},
    { type: 'welcome' },
    { type: 'ended', reason: 'x' },
    { type: 'HELLO', v: 1, mode: 'live' },
    { type: 'toString' },
    { type: '__proto__' },
    { type: 1 },
  ])('unknown client message type %j', (message) => {
    expect(clientError(message)).toMatch(/^type: unknown message type/);
  });

  it.each([{}, { type: 'hello', v: 1, mode: 'live' }, { type: 'constructor' }])('unknown server message type %j', (message) => {
    expect(serverError(message)).toMatch(/^type: unknown message type/);
  });
});

describe('client message fields', () => {
  it.each<[string, Record<string, unknown>, string]>([
    ['version missing', { type: 'hello', mode: 'live' }, 'v'],
    ['older version', { type: 'hello', v: PROTOCOL_VERSION - 1, mode: 'live' }, 'v'],
    ['newer version', { type: 'hello', v: PROTOCOL_VERSION + 1, mode: 'live' }, 'v'],
    ['version as string', { type: 'hello', v: String(PROTOCOL_VERSION), mode: 'live' }, 'v'],
    ['bad mode', { type: 'hello', v: PROTOCOL_VERSION, mode: 'host' }, 'mode'],
    ['missing mode', { type: 'hello', v: PROTOCOL_VERSION }, 'mode'],
    ['negative lastSeq', { type: 'hello', v: PROTOCOL_VERSION, mode: 'mirror', lastSeq: -1 }, 'lastSeq'],
    ['fractional lastSeq', { type: 'hello', v: PROTOCOL_VERSION, mode: 'mirror', lastSeq: 1.5 }, 'lastSeq'],
    ['string lastSeq', { type: 'hello', v: PROTOCOL_VERSION, mode: 'mirror', lastSeq: '3' }, 'lastSeq'],
    ['null lastSeq', { type: 'hello', v: PROTOCOL_VERSION, mode: 'mirror', lastSeq: null }, 'lastSeq'],
    ['snapshot without url', { ...snapshotWith(TREE), url: undefined }, 'url'],
    ['snapshot url too long', { ...snapshotWith(TREE), url: `https://a.com/${'x'.repeat(8192)}` }, 'url'],
    ['snapshot title not a string', { ...snapshotWith(TREE), title: 5 }, 'title'],
    ['snapshot title too long', { ...snapshotWith(TREE), title: 'x'.repeat(4097) }, 'title'],
    ['viewport missing', { ...snapshotWith(TREE), viewport: undefined }, 'viewport'],
    ['viewport negative', { ...snapshotWith(TREE), viewport: { w: -1, h: 10 } }, 'viewport.w'],
    ['viewport huge', { ...snapshotWith(TREE), viewport: { w: 10, h: 100_001 } }, 'viewport.h'],
    ['viewport string', { ...snapshotWith(TREE), viewport: { w: '10', h: 10 } }, 'viewport.w'],
    ['tree missing', snapshotWith(undefined), 'tree'],
    ['tree not a document', snapshotWith({ t: 'el', id: 0, tag: 'html', a: {}, c: [] }), 'tree.t'],
    ['batch missing', { type: 'mutations' }, 'batch'],
    ['batch not a list', { type: 'mutations', batch: {} }, 'batch'],
  ])('%s -> %s', (_what, message, path) => {
    expect(clientError(message).startsWith(`${path}: `)).toBe(true);
  });
});

describe('node trees', () => {
  it.each<[string, unknown, string]>([
    ['unknown node type', { t: 'frame', id: 1 }, 'tree.c[0].t'],
    ['missing node type', { id: 1, v: 'x' }, 'tree.c[0].t'],
    ['node not an object', 'text', 'tree.c[0]'],
    ['node null', null, 'tree.c[0]'],
    ['negative id', { t: 'txt', id: -1, v: 'x' }, 'tree.c[0].id'],
    ['fractional id', { t: 'txt', id: 1.5, v: 'x' }, 'tree.c[0].id'],
    ['id too large', { t: 'txt', id: 2 ** 31, v: 'x' }, 'tree.c[0].id'],
    ['id as string', { t: 'txt', id: '1', v: 'x' }, 'tree.c[0].id'],
    ['missing id', { t: 'txt', v: 'x' }, 'tree.c[0].id'],
    ['text value not a string', { t: 'txt', id: 1, v: 5 }, 'tree.c[0].v'],
    ['comment value missing', { t: 'cm', id: 1 }, 'tree.c[0].v'],
    ['doctype without sys', { t: 'dt', id: 1, name: 'html', pub: '' }, 'tree.c[0]'],
    ['element without children', { t: 'el', id: 1, tag: 'div', a: {} }, 'tree.c[0].c'],
    ['element without attributes', { t: 'el', id: 1, tag: 'div', c: [] }, 'tree.c[0].a'],
    ['attributes as a list', { t: 'el', id: 1, tag: 'div', a: [], c: [] }, 'tree.c[0].a'],
    ['tag <script>', { t: 'el', id: 1, tag: '<script>', a: {}, c: [] }, 'tree.c[0].tag'],
    ['tag with a space', { t: 'el', id: 1, tag: 'a b', a: {}, c: [] }, 'tree.c[0].tag'],
    ['tag with a slash', { t: 'el', id: 1, tag: 'a/b', a: {}, c: [] }, 'tree.c[0].tag'],
    ['tag starting with a digit', { t: 'el', id: 1, tag: '1a', a: {}, c: [] }, 'tree.c[0].tag'],
    ['empty tag', { t: 'el', id: 1, tag: '', a: {}, c: [] }, 'tree.c[0].tag'],
    ['tag not a string', { t: 'el', id: 1, tag: 7, a: {}, c: [] }, 'tree.c[0].tag'],
    ['unknown namespace', { t: 'el', id: 1, tag: 'x', ns: 'html', a: {}, c: [] }, 'tree.c[0].ns'],
    ['attribute name with a space', { t: 'el', id: 1, tag: 'a', a: { 'href onclick': 'x' }, c: [] }, 'tree.c[0].a'],
    ['attribute name with a double quote', { t: 'el', id: 1, tag: 'a', a: { 'a"b': 'x' }, c: [] }, 'tree.c[0].a'],
    ['attribute name with a single quote', { t: 'el', id: 1, tag: 'a', a: { "a'b": 'x' }, c: [] }, 'tree.c[0].a'],
    ['attribute name with =', { t: 'el', id: 1, tag: 'a', a: { 'a=b': 'x' }, c: [] }, 'tree.c[0].a'],
    ['attribute name with >', { t: 'el', id: 1, tag: 'a', a: { 'a>': 'x' }, c: [] }, 'tree.c[0].a'],
    ['attribute name with /', { t: 'el', id: 1, tag: 'a', a: { '/a': 'x' }, c: [] }, 'tree.c[0].a'],
    ['attribute name with a control character', { t: 'el', id: 1, tag: 'a', a: { 'a\u0001': 'x' }, c: [] }, 'tree.c[0].a'],
    ['empty attribute name', { t: 'el', id: 1, tag: 'a', a: { '': 'x' }, c: [] }, 'tree.c[0].a'],
    ['attribute value a number', { t: 'el', id: 1, tag: 'a', a: { href: 5 }, c: [] }, 'tree.c[0].a.href'],
    ['attribute value null', { t: 'el', id: 1, tag: 'a', a: { href: null }, c: [] }, 'tree.c[0].a.href'],
    ['attribute value an object', { t: 'el', id: 1, tag: 'a', a: { href: {} }, c: [] }, 'tree.c[0].a.href'],
    [
      'bad grandchild',
      {
        t: 'el',
        id: 1,
        tag: 'div',
        a: {},
        c: [
          { t: 'txt', id: 2, v: 'ok' },
          { t: 'txt', id: -3, v: 'x' },
        ],
      },
      'tree.c[0].c[1].id',
    ],
  ])('%s -> %s', (_what, child, path) => {
    const error = clientError(docWith(child));
    expect(error.startsWith(`${path}: `)).toBe(true);
    const server = serverError({ ...docWith(child), type: 'snapshot', seq: 1 });
    expect(server.startsWith(`${path}: `)).toBe(true);
  });

  it('refuses a bad document id', () => {
    expect(clientError(snapshotWith({ t: 'doc', id: -1, c: [] }))).toMatch(/^tree\.id: /);
  });

  it(`accepts a tree ${MAX_TREE_DEPTH} levels below the root`, () => {
    expect(parseClientMessage(JSON.stringify(snapshotWith(chain(MAX_TREE_DEPTH)))).ok).toBe(true);
    expect(parseServerMessage(JSON.stringify({ ...snapshotWith(chain(MAX_TREE_DEPTH)), seq: 1 })).ok).toBe(true);
  });

  it(`refuses a tree ${MAX_TREE_DEPTH + 1} levels below the root`, () => {
    const error = clientError(snapshotWith(chain(MAX_TREE_DEPTH + 1)));
    expect(error).toMatch(/^tree(\.c\[0\])+: /);
    expect(error).toContain(`deeper than ${MAX_TREE_DEPTH}`);
    expect(error.split('.c[0]')).toHaveLength(MAX_TREE_DEPTH + 2);
    expect(serverError({ ...snapshotWith(chain(MAX_TREE_DEPTH + 1)), seq: 1 })).toContain(`deeper than ${MAX_TREE_DEPTH}`);
  });

  it('refuses a too deep node added by a mutation', () => {
    const node = (chain(MAX_TREE_DEPTH + 1) as { c: SerializedNode[] }).c[0];
    const deeper: SerializedNode = { t: 'el', id: 9999, tag: 'div', a: {}, c: [node!] };
    expect(clientError({ type: 'mutations', batch: [{ k: 'add', parent: 1, before: null, node: deeper }] })).toMatch(
      /^batch\[0\]\.node(\.c\[0\])+: tree deeper/,
    );
  });
});

describe('mutation batches', () => {
  it.each<[string, unknown, string]>([
    ['not an object', 'remove', 'batch[1]'],
    ['null', null, 'batch[1]'],
    ['unknown kind', { k: 'move', id: 1 }, 'batch[1].k'],
    ['missing kind', { id: 1 }, 'batch[1].k'],
    ['add without parent', { k: 'add', before: null, node: { t: 'txt', id: 1, v: '' } }, 'batch[1].parent'],
    ['add with negative parent', { k: 'add', parent: -1, before: null, node: { t: 'txt', id: 1, v: '' } }, 'batch[1].parent'],
    ['add without before', { k: 'add', parent: 1, node: { t: 'txt', id: 1, v: '' } }, 'batch[1].before'],
    ['add with fractional before', { k: 'add', parent: 1, before: 0.5, node: { t: 'txt', id: 1, v: '' } }, 'batch[1].before'],
    ['add without node', { k: 'add', parent: 1, before: null }, 'batch[1].node'],
    ['add with bad tag', { k: 'add', parent: 1, before: null, node: { t: 'el', id: 2, tag: '<script>', a: {}, c: [] } }, 'batch[1].node.tag'],
    [
      'add with bad attribute name',
      { k: 'add', parent: 1, before: null, node: { t: 'el', id: 2, tag: 'img', a: { 'src onerror': 'x' }, c: [] } },
      'batch[1].node.a',
    ],
    ['remove with string id', { k: 'remove', id: '1' }, 'batch[1].id'],
    ['remove with fractional id', { k: 'remove', id: 2.5 }, 'batch[1].id'],
    ['attr with bad name', { k: 'attr', id: 1, name: 'on click', value: 'x' }, 'batch[1].name'],
    ['attr with quote in name', { k: 'attr', id: 1, name: 'a"', value: 'x' }, 'batch[1].name'],
    ['attr with numeric value', { k: 'attr', id: 1, name: 'title', value: 3 }, 'batch[1].value'],
    ['attr without value', { k: 'attr', id: 1, name: 'title' }, 'batch[1].value'],
    ['attr with negative id', { k: 'attr', id: -5, name: 'title', value: 'x' }, 'batch[1].id'],
    ['text with numeric value', { k: 'text', id: 1, v: 3 }, 'batch[1].v'],
    ['text without id', { k: 'text', v: 'x' }, 'batch[1].id'],
  ])('%s -> %s', (_what, mutation, path) => {
    const batch = [{ k: 'remove', id: 1 }, mutation];
    expect(clientError({ type: 'mutations', batch }).startsWith(`${path}: `)).toBe(true);
    expect(serverError({ type: 'mutations', seq: 3, batch }).startsWith(`${path}: `)).toBe(true);
  });

  it(`accepts a batch of exactly MAX_BATCH (${MAX_BATCH}) mutations`, () => {
    const batch = Array.from({ length: MAX_BATCH }, (_, i) => ({ k: 'remove', id: i }));
    expect(parseClientMessage(JSON.stringify({ type: 'mutations', batch })).ok).toBe(true);
  });

  it('refuses a batch of MAX_BATCH + 1 mutations', () => {
    const batch = Array.from({ length: MAX_BATCH + 1 }, (_, i) => ({ k: 'remove', id: i }));
    const error = clientError({ type: 'mutations', batch });
    expect(error.startsWith('batch: ')).toBe(true);
    expect(error).toContain(String(MAX_BATCH));
  });
});

describe('server message fields', () => {
  it.each<[string, Record<string, unknown>, string]>([
    ['welcome without sessionId', { type: 'welcome', v: 1, participantId: 'p', role: 'host' }, 'welcome'],
    ['welcome with numeric participantId', { type: 'welcome', v: 1, sessionId: 's', participantId: 1, role: 'host' }, 'welcome'],
    ['welcome with unknown role', { type: 'welcome', v: 1, sessionId: 's', participantId: 'p', role: 'admin' }, 'role'],
    ['snapshot without seq', { ...snapshotWith(TREE) }, 'seq'],
    ['snapshot with negative seq', { ...snapshotWith(TREE), seq: -1 }, 'seq'],
    ['snapshot without title', { ...snapshotWith(TREE), seq: 1, title: undefined }, 'snapshot'],
    ['snapshot with bad viewport', { ...snapshotWith(TREE), seq: 1, viewport: { w: 1 } }, 'viewport.h'],
    ['mutations with fractional seq', { type: 'mutations', seq: 1.5, batch: [] }, 'seq'],
    ['mutations without batch', { type: 'mutations', seq: 1 }, 'batch'],
    ['ended without reason', { type: 'ended' }, 'reason'],
    ['error without code', { type: 'error', message: 'x' }, 'error'],
    ['error with numeric message', { type: 'error', code: 'X', message: 1 }, 'error'],
  ])('%s -> %s', (_what, message, path) => {
    expect(serverError(message).startsWith(`${path}: `)).toBe(true);
  });
});

describe('text splices', () => {
  const splice = (fields: Record<string, unknown>) => ({
    type: 'input',
    event: { kind: 'splice', target: 7, at: 3, remove: 1, text: 'xy', base: { length: 10, hash: 0x811c9dc5 }, ...fields },
  });

  it.each<[string, Record<string, unknown>]>([
    ['an insertion', { remove: 0 }],
    ['a deletion', { text: '' }],
    ['at the very end', { at: 10, remove: 0 }],
    ['the whole value replaced', { at: 0, remove: 10 }],
    ['into an empty value', { at: 0, remove: 0, base: { length: 0, hash: 0 } }],
    ['the largest hash', { base: { length: 10, hash: 0xffffffff } }],
    ['the longest text', { text: 'x'.repeat(MAX_SPLICE_CHARS) }],
    ['a result exactly MAX_VALUE_CHARS long', { at: 0, remove: 0, text: 'x'.repeat(10), base: { length: MAX_VALUE_CHARS - 10, hash: 1 } }],
  ])('accepts %s, from a client and from the hub', (_what, fields) => {
    const message = splice(fields);
    expect(parseClientMessage(JSON.stringify(message))).toEqual({ ok: true, value: message });
    expect(parseServerMessage(JSON.stringify({ ...message, from: 'p1' })).ok).toBe(true);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['no target', { target: undefined }, 'event.target'],
    ['no base', { base: undefined }, 'event.base'],
    ['a base without hash', { base: { length: 10 } }, 'event.base'],
    ['a negative hash', { base: { length: 10, hash: -1 } }, 'event.base'],
    ['a hash over 32 bits', { base: { length: 10, hash: 2 ** 32 } }, 'event.base'],
    ['a fractional length', { base: { length: 10.5, hash: 1 } }, 'event.base'],
    ['a base longer than a value may be', { base: { length: MAX_VALUE_CHARS + 1, hash: 1 } }, 'event.base'],
    ['a negative offset', { at: -1 }, 'event.at'],
    ['a fractional offset', { at: 1.5 }, 'event.at'],
    ['an offset past the value', { at: 11, remove: 0 }, 'event.at'],
    ['an offset as a string', { at: '3' }, 'event.at'],
    ['a removal past the value', { at: 5, remove: 6 }, 'event.remove'],
    ['a negative removal', { remove: -1 }, 'event.remove'],
    ['a removal as null', { remove: null }, 'event.remove'],
    ['text that is not a string', { text: 5 }, 'event.text'],
    ['text over MAX_SPLICE_CHARS', { text: 'x'.repeat(MAX_SPLICE_CHARS + 1) }, 'event.text'],
    ['a splice that changes nothing', { remove: 0, text: '' }, 'event'],
    ['a result over MAX_VALUE_CHARS', { at: 0, remove: 0, text: 'x'.repeat(11), base: { length: MAX_VALUE_CHARS - 10, hash: 1 } }, 'event'],
  ])('refuses %s -> %s', (_what, fields, path) => {
    const error = clientError(splice(fields));
    expect(error.startsWith(`${path}: `), error).toBe(true);
    expect(serverError({ ...splice(fields), from: 'p1' }).startsWith(`${path}: `)).toBe(true);
  });

  it('a splice never makes a value longer than a whole value could be, nor carries more text than a follower message holds', () => {
    // The old whole value: at most MAX_VALUE_CHARS; a splice's result is bounded the same way.
    expect(clientError({ type: 'input', event: { kind: 'value', target: 7, value: 'x'.repeat(MAX_VALUE_CHARS + 1) } })).toMatch(/^event.value: /);
    const grow = splice({ at: MAX_VALUE_CHARS, remove: 0, text: 'x', base: { length: MAX_VALUE_CHARS, hash: 1 } });
    expect(clientError(grow)).toMatch(/^event: the value would be longer/);
    // Text of MAX_SPLICE_CHARS units is at least that many bytes: no longer than a follower's message.
    expect(MAX_SPLICE_CHARS).toBeLessThanOrEqual(FOLLOWER_MAX_MESSAGE_BYTES);
  });

  it("the host page's splice of a long value (a mutation) may carry up to a whole value, checked the same way", () => {
    const batch = [{ k: 'splice', id: 7, at: 0, remove: 0, text: 'x'.repeat(MAX_SPLICE_CHARS + 1), base: { length: 0, hash: 1 } }];
    expect(parseClientMessage(JSON.stringify({ type: 'mutations', batch })).ok).toBe(true);
    expect(parseServerMessage(JSON.stringify({ type: 'mutations', seq: 3, batch })).ok).toBe(true);
    expect(clientError({ type: 'mutations', batch: [{ ...batch[0], at: 1 }] })).toMatch(/^batch\[0\]\.at: /);
    expect(clientError({ type: 'mutations', batch: [{ ...batch[0], id: undefined }] })).toMatch(/^batch\[0\]\.id: /);
    expect(clientError({ type: 'mutations', batch: [{ ...batch[0], text: 'x'.repeat(MAX_VALUE_CHARS + 1) }] })).toMatch(/^batch\[0\]\.text: /);
  });

  it('the refusal of a splice: the host names the participant, the participant gets the field and base', () => {
    const refused = { type: 'splice-refused', participantId: 'p1', target: 7, base: { length: 10, hash: 5 } } as const;
    expect(parseClientMessage(encodeMessage(refused))).toEqual({ ok: true, value: refused });
    const toParticipant = { type: 'splice-refused', target: 7, base: { length: 10, hash: 5 } } as const;
    expect(parseServerMessage(encodeMessage(toParticipant))).toEqual({ ok: true, value: toParticipant });
    expect(clientError({ ...refused, participantId: 5 })).toMatch(/^participantId: /);
    expect(clientError({ ...refused, target: -1 })).toMatch(/^target: /);
    expect(clientError({ ...refused, base: { length: 1 } })).toMatch(/^base: /);
    expect(serverError({ ...toParticipant, base: null })).toMatch(/^base: /);
    expect(serverError({ ...toParticipant, target: 'x' })).toMatch(/^target: /);
  });
});

describe('protocol version', () => {
  it('a hello of a script from before splices (version 1) is refused as another version, with a code the hub can tell its sender', () => {
    // Version 1 scripts cannot read splice mutations, nor send contenteditable text in parts.
    for (const v of [1, PROTOCOL_VERSION - 1, PROTOCOL_VERSION + 1]) {
      const parsed = parseClientMessage(JSON.stringify({ type: 'hello', v, mode: 'mirror' }));
      expect(parsed).toEqual({ ok: false, error: expect.stringMatching(/^v: .*reload the page$/), code: VERSION_MISMATCH });
    }
    expect(parseClientMessage(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, mode: 'mirror' })).ok).toBe(true);
    // Other refusals carry no code.
    expect(parseClientMessage(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, mode: 'host' }))).toEqual({ ok: false, error: expect.any(String) });
  });

  it("a page recognizes the hub's refusal of its version: the code, or the BAD_MESSAGE about v that hubs without the code send", () => {
    const refusal = parseClientMessage(JSON.stringify({ type: 'hello', v: 1, mode: 'live' }));
    if (refusal.ok) throw new Error('expected a refusal');
    // What today's hub sends: the parse error under BAD_MESSAGE.
    expect(isVersionRefusal({ code: 'BAD_MESSAGE', message: refusal.error })).toBe(true);
    // What a version 1 hub sent to a newer page.
    expect(isVersionRefusal({ code: 'BAD_MESSAGE', message: 'v: protocol version 2 is not 1' })).toBe(true);
    expect(isVersionRefusal({ code: VERSION_MISMATCH, message: 'anything' })).toBe(true);
    expect(isVersionRefusal({ code: 'BAD_MESSAGE', message: 'mode: expected live or mirror' })).toBe(false);
    expect(isVersionRefusal({ code: 'RATE_LIMITED', message: 'v: ' })).toBe(false);
  });
});

describe('contenteditable text in parts', () => {
  const edit = (fields: Record<string, unknown>) => ({
    type: 'input',
    event: { kind: 'edit', target: 7, inputType: 'insertFromPaste', data: 'some text', range: null, ...fields },
  });

  it.each<Record<string, unknown>>([
    {},
    { part: { index: 0, count: 2 } },
    { part: { index: 1, count: 2 } },
    { part: { index: MAX_EDIT_PARTS - 1, count: MAX_EDIT_PARTS } },
  ])('accepted: %j', (fields) => {
    const message = edit(fields);
    expect(parseClientMessage(JSON.stringify(message))).toEqual({ ok: true, value: message });
    expect(parseServerMessage(JSON.stringify({ ...message, from: 'p1' })).ok).toBe(true);
  });

  it.each<[string, Record<string, unknown>]>([
    ['a part past the count', { part: { index: 2, count: 2 } }],
    ['a count of one', { part: { index: 0, count: 1 } }],
    ['more parts than any edit needs', { part: { index: 0, count: MAX_EDIT_PARTS + 1 } }],
    ['a fractional index', { part: { index: 0.5, count: 2 } }],
    ['no count', { part: { index: 0 } }],
    ['not an object', { part: 1 }],
    ['a part without text', { part: { index: 0, count: 2 }, data: null }],
    ['an empty part', { part: { index: 1, count: 2 }, data: '' }],
  ])('refused: %s', (_what, fields) => {
    expect(clientError(edit(fields))).toMatch(/^event\.(part|data): /);
  });
});

describe('inputs that continue the participant’s caret in a contenteditable element', () => {
  const key = (fields: Record<string, unknown>) => ({
    type: 'input',
    event: { kind: 'key', target: 7, key: 'ArrowLeft', code: 'ArrowLeft', alt: false, ctrl: false, shift: true, meta: false, ...fields },
  });
  const edit = (fields: Record<string, unknown>) => ({
    type: 'input',
    event: { kind: 'edit', target: 7, inputType: 'insertText', data: 'a', range: null, ...fields },
  });

  it.each<[string, Record<string, unknown>]>([
    ['a key', key({})],
    ['a caret key from the mirror’s selection', key({ range: { a: 8, ao: 2, f: 8, fo: 5 } })],
    ['a caret key with no selection', key({ range: null })],
    ['a caret key that follows', key({ range: { a: 8, ao: 2, f: 8, fo: 2 }, follows: true })],
    ['an edit that follows', edit({ follows: true })],
    ['an edit that does not', edit({ follows: false })],
  ])('accepted: %s', (_what, message) => {
    expect(parseClientMessage(JSON.stringify(message))).toEqual({ ok: true, value: message });
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['a range without offsets', key({ range: { a: 8, f: 8 } }), /^event\.range: /],
    ['a range that is not an object', key({ range: 'start' }), /^event\.range: /],
    ['a negative offset', key({ range: { a: 8, ao: -1, f: 8, fo: 0 } }), /^event\.range: /],
    ['follows that is not a boolean, on a key', key({ follows: 'yes' }), /^event\.follows: /],
    ['follows that is not a boolean, on an edit', edit({ follows: 1 }), /^event\.follows: /],
  ])('refused: %s', (_what, message, error) => {
    expect(clientError(message)).toMatch(error);
  });
});
