// The attribute names the HTML rewriter knows, by id: URL attributes and the ones that qualify
// them (rel, as, http-equiv, integrity, encoding, font's color/face/size).

import { nameHash, nameKey, sameName } from './html-syntax.js';

/** Ids of the known attributes (0 stands for any other). */
export const ATTR = {
  HREF: 1,
  SRC: 2,
  SRCSET: 3,
  IMAGESRCSET: 4,
  ACTION: 5,
  FORMACTION: 6,
  POSTER: 7,
  PING: 8,
  DATA: 9,
  BACKGROUND: 10,
  XLINK_HREF: 11,
  CONTENT: 12,
  HTTP_EQUIV: 13,
  REL: 14,
  AS: 15,
  INTEGRITY: 16,
  SRCDOC: 17,
  STYLE: 18,
  ENCODING: 19,
  COLOR: 20,
  FACE: 21,
  SIZE: 22,
} as const;

/** Lowercase attribute names by id. */
export const ATTR_NAMES: readonly string[] = [
  '',
  'href',
  'src',
  'srcset',
  'imagesrcset',
  'action',
  'formaction',
  'poster',
  'ping',
  'data',
  'background',
  'xlink:href',
  'content',
  'http-equiv',
  'rel',
  'as',
  'integrity',
  'srcdoc',
  'style',
  'encoding',
  'color',
  'face',
  'size',
];

const MIN_LENGTH = 2;
const MAX_LENGTH = 11;
/** nameKey of some known name. */
const KEYS = new Uint8Array(512);
/** Attribute id by nameHash; the known names do not collide, which is checked here. */
const BY_HASH = new Uint8Array(1024);
for (let id = 1; id < ATTR_NAMES.length; id++) {
  const name = ATTR_NAMES[id]!;
  KEYS[nameKey(name, 0, name.length)] = 1;
  const h = nameHash(name, 0, name.length);
  if (BY_HASH[h] !== 0) throw new Error(`attribute name hash collision: ${name}`);
  BY_HASH[h] = id;
}

/** Id of the attribute named text[s, e) in any case, or 0. */
export function attributeId(text: string, s: number, e: number): number {
  if (e - s < MIN_LENGTH || e - s > MAX_LENGTH || KEYS[nameKey(text, s, e)] === 0) return 0;
  const id = BY_HASH[nameHash(text, s, e)]!;
  return id !== 0 && sameName(text, s, e, ATTR_NAMES[id]!) ? id : 0;
}

/** The set bit of attribute id `id`. */
export const bit = (id: number): number => 1 << id;
