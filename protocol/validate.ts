// Validation of every wire message: the checks behind parseClientMessage and parseServerMessage.
// Part of the protocol module (protocol/messages.ts re-exports what callers use).

import {
  type ClientMessage,
  MAX_BATCH,
  MAX_CHAT_CHARS,
  MAX_EDIT_PARTS,
  MAX_MESSAGE_BYTES,
  MAX_NAME_CHARS,
  MAX_SPLICE_CHARS,
  MAX_TREE_DEPTH,
  MAX_VALUE_CHARS,
  type Mutation,
  type Parsed,
  PROTOCOL_VERSION,
  type RemoteInput,
  type SerializedNode,
  type ServerMessage,
  type SpliceBase,
  VERSION_MISMATCH,
  type Viewport,
} from './messages.js';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function isId(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0x7fffffff;
}
function isStr(v: unknown): v is string {
  return typeof v === 'string';
}

class Invalid extends Error {
  constructor(
    message: string,
    readonly code?: typeof VERSION_MISMATCH,
  ) {
    super(message);
  }
}

function fail(path: string, what: string, code?: typeof VERSION_MISMATCH): never {
  throw new Invalid(`${path}: ${what}`, code);
}

const TAG_NAME = /^[A-Za-z][A-Za-z0-9_.:-]*$/;
const ATTR_NAME = /^[^\s"'>/=\u0000-\u001f]+$/;

function checkNode(v: unknown, path: string, depth: number): SerializedNode {
  if (depth > MAX_TREE_DEPTH) fail(path, `tree deeper than ${MAX_TREE_DEPTH}`);
  if (!isObj(v)) fail(path, 'expected a node object');
  if (!isId(v.id)) fail(`${path}.id`, 'expected a node id');
  switch (v.t) {
    case 'doc':
    case 'sr':
    case 'el': {
      if (!Array.isArray(v.c)) fail(`${path}.c`, 'expected an array of children');
      const children = v.c as unknown[];
      for (let i = 0; i < children.length; i++) checkNode(children[i], `${path}.c[${i}]`, depth + 1);
      if (v.as !== undefined) checkSheets(v.as, `${path}.as`);
      if (v.t === 'el') {
        if (!isStr(v.tag) || !TAG_NAME.test(v.tag)) fail(`${path}.tag`, 'expected a tag name');
        if (v.ns !== undefined && v.ns !== 'svg' && v.ns !== 'math') fail(`${path}.ns`, 'expected svg or math');
        if (!isObj(v.a)) fail(`${path}.a`, 'expected an attribute map');
        for (const [name, value] of Object.entries(v.a)) {
          if (!ATTR_NAME.test(name)) fail(`${path}.a`, `bad attribute name ${JSON.stringify(name)}`);
          if (!isStr(value)) fail(`${path}.a.${name}`, 'expected a string');
        }
        if (v.f !== undefined) {
          if (!isObj(v.f)) fail(`${path}.f`, 'expected form state');
          checkFormState(v.f, `${path}.f`);
        }
        if (v.sc !== undefined) {
          if (!isObj(v.sc)) fail(`${path}.sc`, 'expected a scroll offset');
          checkXY(v.sc, `${path}.sc`);
        }
        if (v.sr !== undefined && checkNode(v.sr, `${path}.sr`, depth + 1).t !== 'sr') fail(`${path}.sr`, 'expected a shadow root');
        if (v.cd !== undefined && checkNode(v.cd, `${path}.cd`, depth + 1).t !== 'doc') fail(`${path}.cd`, 'expected a document');
        if (v.css !== undefined && !isStr(v.css)) fail(`${path}.css`, 'expected a string');
        if (v.m !== undefined) checkMedia(v.m, `${path}.m`);
      }
      return v as SerializedNode;
    }
    case 'dt':
      if (!isStr(v.name) || !isStr(v.pub) || !isStr(v.sys)) fail(path, 'doctype needs name, pub and sys strings');
      return v as SerializedNode;
    case 'txt':
    case 'cm':
      if (!isStr(v.v)) fail(`${path}.v`, 'expected a string');
      return v as SerializedNode;
    default:
      return fail(`${path}.t`, 'unknown node type');
  }
}

function isNum(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= 1e7;
}

function checkFormState(v: Obj, path: string): void {
  if (v.value !== undefined && (!isStr(v.value) || v.value.length > MAX_VALUE_CHARS)) fail(`${path}.value`, 'expected a string');
  if (v.checked !== undefined && typeof v.checked !== 'boolean') fail(`${path}.checked`, 'expected true or false');
}

function checkXY(v: Obj, path: string): void {
  if (!isNum(v.x) || !isNum(v.y)) fail(path, 'expected numeric x and y');
}

function isCount(v: unknown, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;
}

function checkSpliceBase(v: unknown, path: string): SpliceBase {
  if (!isObj(v) || !isCount(v.length, MAX_VALUE_CHARS) || !isCount(v.hash, 0xffffffff)) fail(path, 'expected {length, hash}: a value length and a 32-bit hash');
  return v as unknown as SpliceBase;
}

/**
 * A splice stays inside the value it names and leaves one no longer than a form value may be; it
 * changes something. A participant's carries at most MAX_SPLICE_CHARS of text, the host page's
 * (a mutation) up to a whole value.
 */
function checkSplice(v: Obj, path: string, maxText: number): void {
  const base = checkSpliceBase(v.base, `${path}.base`);
  if (!isCount(v.at, base.length)) fail(`${path}.at`, 'expected an offset inside the base value');
  if (!isCount(v.remove, base.length - v.at)) fail(`${path}.remove`, 'expected a count of units inside the base value');
  if (!isStr(v.text) || v.text.length > maxText) fail(`${path}.text`, `expected at most ${maxText} characters`);
  if (v.remove === 0 && v.text === '') fail(path, 'a splice that changes nothing');
  if (base.length - v.remove + v.text.length > MAX_VALUE_CHARS) fail(path, `the value would be longer than ${MAX_VALUE_CHARS} characters`);
}

function checkRange(v: unknown, path: string): void {
  if (v === null) return;
  const r = v as Obj;
  if (!isObj(r) || !isId(r.a) || !isId(r.f) || !isId(r.ao) || !isId(r.fo)) fail(path, 'expected node ids and offsets or null');
}

function checkFollows(v: Obj, path: string): void {
  if (v.follows !== undefined && typeof v.follows !== 'boolean') fail(`${path}.follows`, 'expected true or false');
}

function checkRemoteInput(v: unknown, path: string): RemoteInput {
  if (!isObj(v)) fail(path, 'expected an input object');
  const kind = v.kind as RemoteInput['kind'];
  switch (kind) {
    case 'click':
      if (!isId(v.target)) fail(`${path}.target`, 'expected a node id');
      checkXY(v, path);
      return v as RemoteInput;
    case 'value':
      if (!isId(v.target)) fail(`${path}.target`, 'expected a node id');
      checkFormState(v, path);
      return v as RemoteInput;
    case 'key':
      if (v.target !== null && !isId(v.target)) fail(`${path}.target`, 'expected a node id or null');
      if (!isStr(v.key) || v.key.length > 32 || !isStr(v.code) || v.code.length > 32) fail(path, 'expected key and code strings');
      for (const m of ['alt', 'ctrl', 'shift', 'meta']) if (typeof v[m] !== 'boolean') fail(`${path}.${m}`, 'expected true or false');
      if (v.range !== undefined) checkRange(v.range, `${path}.range`);
      checkFollows(v, path);
      return v as RemoteInput;
    case 'scroll':
      if (!isId(v.target)) fail(`${path}.target`, 'expected a node id');
      checkXY(v, path);
      return v as RemoteInput;
    case 'navigate':
      if (!isStr(v.url) || v.url.length > 8192) fail(`${path}.url`, 'expected a URL string');
      return v as RemoteInput;
    case 'history':
      if (v.action !== 'back' && v.action !== 'forward' && v.action !== 'reload') fail(`${path}.action`, 'expected back, forward or reload');
      return v as RemoteInput;
    case 'edit':
      if (!isId(v.target)) fail(`${path}.target`, 'expected a node id');
      if (!isStr(v.inputType) || !/^[a-zA-Z]{1,40}$/.test(v.inputType)) fail(`${path}.inputType`, 'expected an input type');
      if (v.data !== null && (!isStr(v.data) || v.data.length > 100_000)) fail(`${path}.data`, 'expected text or null');
      checkRange(v.range, `${path}.range`);
      checkFollows(v, path);
      if (v.part !== undefined) {
        const p = v.part as Obj;
        if (!isObj(p) || !isId(p.index) || !isId(p.count) || p.count < 2 || p.count > MAX_EDIT_PARTS || p.index >= p.count)
          fail(`${path}.part`, `expected a part index below a count of 2 to ${MAX_EDIT_PARTS}`);
        if (!isStr(v.data) || v.data === '') fail(`${path}.data`, 'a part carries text');
      }
      return v as RemoteInput;
    case 'splice':
      if (!isId(v.target)) fail(`${path}.target`, 'expected a node id');
      checkSplice(v, path, MAX_SPLICE_CHARS);
      return v as RemoteInput;
    default: {
      const unknownKind: never = kind;
      return fail(`${path}.kind`, `unknown input kind ${JSON.stringify(unknownKind)}`);
    }
  }
}

function checkSheets(v: unknown, path: string): void {
  if (!Array.isArray(v) || v.length > 1000 || !v.every(isStr)) fail(path, 'expected a list of style sheet texts');
}

function checkMedia(v: unknown, path: string): void {
  if (!isObj(v)) fail(path, 'expected media state');
  if (typeof v.paused !== 'boolean' || typeof v.muted !== 'boolean') fail(path, 'expected paused and muted booleans');
  if (!isNum(v.time) || !isNum(v.rate) || !isNum(v.volume)) fail(path, 'expected numeric time, rate and volume');
}

function checkCursor(v: unknown, path: string): void {
  if (!isObj(v) || !isId(v.target)) fail(path, 'expected a cursor {target, x, y}');
  checkXY(v, path);
}

function checkHighlight(v: Obj, path: string): void {
  if (v.kind !== 'mark' && v.kind !== 'laser' && v.kind !== 'ripple' && v.kind !== 'area') fail(`${path}.kind`, 'expected mark, laser, ripple or area');
  if ((v.w !== undefined && !isNum(v.w)) || (v.h !== undefined && !isNum(v.h))) fail(path, 'expected numeric w and h');
  if (!isId(v.target)) fail(`${path}.target`, 'expected a node id');
  checkXY(v, path);
}

function checkMutation(v: unknown, path: string): Mutation {
  if (!isObj(v)) fail(path, 'expected a mutation object');
  switch (v.k) {
    case 'add':
      if (!isId(v.parent)) fail(`${path}.parent`, 'expected a node id');
      if (v.before !== null && !isId(v.before)) fail(`${path}.before`, 'expected a node id or null');
      checkNode(v.node, `${path}.node`, 0);
      return v as Mutation;
    case 'remove':
      if (!isId(v.id)) fail(`${path}.id`, 'expected a node id');
      return v as Mutation;
    case 'attr':
      if (!isId(v.id)) fail(`${path}.id`, 'expected a node id');
      if (!isStr(v.name) || !ATTR_NAME.test(v.name)) fail(`${path}.name`, 'expected an attribute name');
      if (v.value !== null && !isStr(v.value)) fail(`${path}.value`, 'expected a string or null');
      return v as Mutation;
    case 'text':
      if (!isId(v.id)) fail(`${path}.id`, 'expected a node id');
      if (!isStr(v.v)) fail(`${path}.v`, 'expected a string');
      return v as Mutation;
    case 'value':
      if (!isId(v.id)) fail(`${path}.id`, 'expected a node id');
      checkFormState(v, path);
      return v as Mutation;
    case 'splice':
      if (!isId(v.id)) fail(`${path}.id`, 'expected a node id');
      checkSplice(v, path, MAX_VALUE_CHARS);
      return v as Mutation;
    case 'scroll':
      if (!isId(v.id)) fail(`${path}.id`, 'expected a node id');
      checkXY(v, path);
      return v as Mutation;
    case 'viewport':
      checkViewport(v);
      return v as Mutation;
    case 'location':
      if (!isStr(v.url) || v.url.length > 8192) fail(`${path}.url`, 'expected a URL string');
      return v as Mutation;
    case 'shadow':
      if (!isId(v.id)) fail(`${path}.id`, 'expected a node id');
      if (checkNode(v.root, `${path}.root`, 0).t !== 'sr') fail(`${path}.root`, 'expected a shadow root');
      return v as Mutation;
    case 'css':
      if (!isId(v.id)) fail(`${path}.id`, 'expected a node id');
      if (!isStr(v.text)) fail(`${path}.text`, 'expected a string');
      return v as Mutation;
    case 'adopted':
      if (!isId(v.id)) fail(`${path}.id`, 'expected a node id');
      checkSheets(v.sheets, `${path}.sheets`);
      return v as Mutation;
    case 'frame':
      if (!isId(v.id)) fail(`${path}.id`, 'expected a node id');
      if (v.doc !== null && checkNode(v.doc, `${path}.doc`, 0).t !== 'doc') fail(`${path}.doc`, 'expected a document or null');
      return v as Mutation;
    case 'media':
      if (!isId(v.id)) fail(`${path}.id`, 'expected a node id');
      checkMedia(v, path);
      return v as Mutation;
    case 'canvas':
      if (!isId(v.id)) fail(`${path}.id`, 'expected a node id');
      if (!isStr(v.data) || !/^data:image\/(png|jpeg|webp);base64,/.test(v.data)) fail(`${path}.data`, 'expected an image data URL');
      return v as Mutation;
    case 'focus':
      if (v.id !== null && !isId(v.id)) fail(`${path}.id`, 'expected a node id or null');
      return v as Mutation;
    case 'check':
      if (!isId(v.n) || typeof v.hash !== 'number' || !Number.isInteger(v.hash) || v.hash < 0 || v.hash > 0xffffffff)
        fail(path, 'expected a node count and a 32-bit hash');
      return v as Mutation;
    case 'selection':
      if (v.range !== null) {
        if (!isObj(v.range)) fail(`${path}.range`, 'expected a range or null');
        const r = v.range;
        if (!isId(r.a) || !isId(r.f) || !isId(r.ao) || !isId(r.fo)) fail(`${path}.range`, 'expected node ids and offsets');
      }
      return v as Mutation;
    default:
      return fail(`${path}.k`, 'unknown mutation kind');
  }
}

function checkViewport(v: unknown): Viewport {
  if (!isObj(v)) fail('viewport', 'expected {w, h}');
  for (const key of ['w', 'h'] as const) {
    const n = v[key];
    if (typeof n !== 'number' || !Number.isFinite(n) || n < 0 || n > 100_000) fail(`viewport.${key}`, 'expected a size in pixels');
  }
  return v as unknown as Viewport;
}

function checkClientMessage(v: unknown): ClientMessage {
  if (!isObj(v)) fail('message', 'expected a JSON object');
  const type = v.type as ClientMessage['type'];
  switch (type) {
    case 'hello':
      if (v.v !== PROTOCOL_VERSION)
        fail('v', `this page's cobrowsing script speaks protocol ${String(v.v)}, the gateway ${PROTOCOL_VERSION}: reload the page`, VERSION_MISMATCH);
      if (v.mode !== 'live' && v.mode !== 'mirror') fail('mode', 'expected live or mirror');
      if (v.lastSeq !== undefined && !isId(v.lastSeq)) fail('lastSeq', 'expected a sequence number');
      return v as ClientMessage;
    case 'snapshot':
      if (!isStr(v.url) || v.url.length > 8192) fail('url', 'expected a URL string');
      if (!isStr(v.title) || v.title.length > 4096) fail('title', 'expected a string');
      checkViewport(v.viewport);
      checkNode(v.tree, 'tree', 0);
      if ((v.tree as SerializedNode).t !== 'doc') fail('tree.t', 'a snapshot starts at a document');
      return v as ClientMessage;
    case 'mutations': {
      if (!Array.isArray(v.batch)) fail('batch', 'expected an array');
      const batch = v.batch as unknown[];
      if (batch.length > MAX_BATCH) fail('batch', `more than ${MAX_BATCH} mutations`);
      for (let i = 0; i < batch.length; i++) checkMutation(batch[i], `batch[${i}]`);
      return v as ClientMessage;
    }
    case 'input':
      checkRemoteInput(v.event, 'event');
      return v as ClientMessage;
    case 'presence':
      if (v.cursor !== null) checkCursor(v.cursor, 'cursor');
      return v as ClientMessage;
    case 'chat':
      if (!isStr(v.text) || v.text.trim() === '' || v.text.length > MAX_CHAT_CHARS) fail('text', `expected 1 to ${MAX_CHAT_CHARS} characters`);
      return v as ClientMessage;
    case 'name':
      if (!isStr(v.name) || v.name.trim() === '' || v.name.length > MAX_NAME_CHARS) fail('name', `expected 1 to ${MAX_NAME_CHARS} characters`);
      return v as ClientMessage;
    case 'control':
      if (!['request', 'release', 'grant', 'deny', 'revoke', 'make-host'].includes(v.action as string)) fail('action', 'unknown control action');
      if (v.participantId !== undefined && !isStr(v.participantId)) fail('participantId', 'expected a participant id');
      return v as ClientMessage;
    case 'highlight':
      checkHighlight(v, 'highlight');
      return v as ClientMessage;
    case 'end':
      return v as ClientMessage;
    case 'input-refused':
      if (!isStr(v.participantId) || !isStr(v.reason) || v.reason.length > 500) fail('input-refused', 'needs participantId and a short reason');
      return v as ClientMessage;
    case 'splice-refused':
      if (!isStr(v.participantId) || v.participantId.length > 200) fail('participantId', 'expected a participant id');
      if (!isId(v.target)) fail('target', 'expected a node id');
      checkSpliceBase(v.base, 'base');
      if (v.value !== undefined && (!isStr(v.value) || v.value.length > MAX_VALUE_CHARS)) fail('value', 'expected a string');
      return v as ClientMessage;
    default: {
      const unknownType: never = type;
      return fail('type', `unknown message type ${JSON.stringify(unknownType)}`);
    }
  }
}

function checkServerMessage(v: unknown): ServerMessage {
  if (!isObj(v)) fail('message', 'expected a JSON object');
  const type = v.type as ServerMessage['type'];
  switch (type) {
    case 'welcome':
      if (!isStr(v.sessionId) || !isStr(v.participantId)) fail('welcome', 'needs sessionId and participantId');
      if (v.role !== 'host' && v.role !== 'controller' && v.role !== 'observer') fail('role', 'unknown role');
      return v as ServerMessage;
    case 'snapshot':
      if (!isId(v.seq)) fail('seq', 'expected a sequence number');
      if (!isStr(v.url) || !isStr(v.title)) fail('snapshot', 'needs url and title');
      checkViewport(v.viewport);
      checkNode(v.tree, 'tree', 0);
      return v as ServerMessage;
    case 'mutations': {
      if (!isId(v.seq)) fail('seq', 'expected a sequence number');
      if (!Array.isArray(v.batch)) fail('batch', 'expected an array');
      const batch = v.batch as unknown[];
      for (let i = 0; i < batch.length; i++) checkMutation(batch[i], `batch[${i}]`);
      return v as ServerMessage;
    }
    case 'request-snapshot':
    case 'waiting-for-host':
    case 'cookies-changed':
      return v as ServerMessage;
    case 'promoted':
      if (!isStr(v.url)) fail('url', 'expected a URL string');
      return v as ServerMessage;
    case 'roster':
      if (!Array.isArray(v.participants)) fail('participants', 'expected a list');
      for (const p of v.participants as unknown[]) {
        if (!isObj(p) || !isStr(p.id) || !isStr(p.name) || !isStr(p.color) || !isStr(p.role) || typeof p.connected !== 'boolean')
          fail('participants', 'bad roster entry');
      }
      if (v.controlHolder !== null && !isStr(v.controlHolder)) fail('controlHolder', 'expected a participant id or null');
      if (v.policy !== 'host-only' && v.policy !== 'request' && v.policy !== 'take') fail('policy', 'unknown control policy');
      return v as ServerMessage;
    case 'presence':
      if (!isStr(v.from)) fail('from', 'expected a participant id');
      if (v.cursor !== null) checkCursor(v.cursor, 'cursor');
      return v as ServerMessage;
    case 'chat':
      if (!isStr(v.from) || !isStr(v.name) || !isStr(v.text) || typeof v.at !== 'number') fail('chat', 'needs from, name, text and at');
      return v as ServerMessage;
    case 'control-request':
      if (!isStr(v.from) || !isStr(v.name)) fail('control-request', 'needs from and name');
      return v as ServerMessage;
    case 'highlight':
      if (!isStr(v.from)) fail('from', 'expected a participant id');
      checkHighlight(v, 'highlight');
      return v as ServerMessage;
    case 'notice':
      if (!isStr(v.text)) fail('text', 'expected a string');
      return v as ServerMessage;
    case 'splice-refused':
      if (!isId(v.target)) fail('target', 'expected a node id');
      checkSpliceBase(v.base, 'base');
      if (v.value !== undefined && (!isStr(v.value) || v.value.length > MAX_VALUE_CHARS)) fail('value', 'expected a string');
      return v as ServerMessage;
    case 'input':
      if (!isStr(v.from)) fail('from', 'expected a participant id');
      checkRemoteInput(v.event, 'event');
      return v as ServerMessage;
    case 'ended':
      if (!isStr(v.reason)) fail('reason', 'expected a string');
      return v as ServerMessage;
    case 'error':
      if (!isStr(v.code) || !isStr(v.message)) fail('error', 'needs code and message');
      return v as ServerMessage;
    default: {
      const unknownType: never = type;
      return fail('type', `unknown message type ${JSON.stringify(unknownType)}`);
    }
  }
}

function parseWith<T>(text: string, check: (v: unknown) => T): Parsed<T> {
  if (text.length > MAX_MESSAGE_BYTES) return { ok: false, error: `message larger than ${MAX_MESSAGE_BYTES} bytes` };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { ok: false, error: 'message is not valid JSON' };
  }
  try {
    return { ok: true, value: check(data) };
  } catch (err) {
    if (err instanceof Invalid) return err.code ? { ok: false, error: err.message, code: err.code } : { ok: false, error: err.message };
    throw err;
  }
}

/** Parses and validates a message received by the hub. */
export function parseClientMessage(text: string): Parsed<ClientMessage> {
  return parseWith(text, checkClientMessage);
}

/** Parses and validates a message received by a browser. */
export function parseServerMessage(text: string): Parsed<ServerMessage> {
  return parseWith(text, checkServerMessage);
}
