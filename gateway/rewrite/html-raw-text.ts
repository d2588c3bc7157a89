// Where text that is not markup ends: comments, bogus comments, CDATA sections, raw text and
// RCDATA (at </name), and script data with its escaped and double-escaped states (HTML standard,
// "script data escaped state"). Each scan returns where the scanner goes on, with `ended` telling
// whether the construct ended there; -1 means the text ends too early to tell: hold from `holdPos`.

const BANG = 0x21;
const DASH = 0x2d;
const SLASH = 0x2f;
const LT = 0x3c;
const GT = 0x3e;

function isAlpha(c: number): boolean {
  return (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a;
}

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d || c === 0x0c;
}

/** Index of `needle` in text[from, end), or -1. */
export function find(text: string, needle: string, from: number, end: number): number {
  if (end >= text.length) {
    const k = text.indexOf(needle, from);
    return k === -1 || k + needle.length > end ? -1 : k;
  }
  // Short of the text's end, in a slice (O(1) in V8): indexOf on the text would read on past `end`.
  if (end - from < needle.length) return -1;
  const k = text.slice(from, end).indexOf(needle);
  return k === -1 ? -1 : k + from;
}

/** 1 if text[p...] is `name` (any case) followed by whitespace, '/' or '>', 0 if not, -1 if the text ends too early to tell. */
function matchName(text: string, p: number, end: number, name: string): number {
  const n = name.length;
  for (let k = 0; k < n; k++) {
    if (p + k >= end) return -1;
    if ((text.charCodeAt(p + k) | 0x20) !== name.charCodeAt(k)) return 0;
  }
  if (p + n >= end) return -1;
  const t = text.charCodeAt(p + n);
  return isWs(t) || t === SLASH || t === GT ? 1 : 0;
}

/** The end of the current comment, CDATA section, raw text or script; one per scanner. */
export class TextEnd {
  /** The last scan found the end. */
  ended = false;
  /** Where to hold from after a scan returned -1. */
  holdPos = 0;
  private sub = 0;

  /** A <script> start tag was seen: script data begins, not escaped. */
  startScript(): void {
    this.sub = 0;
  }

  /** In a bogus comment: after its '>'. */
  bogus(text: string, i: number, end: number): number {
    const gt = find(text, '>', i, end);
    this.ended = gt !== -1;
    return gt === -1 ? end : gt + 1;
  }

  /** In a comment: after its end (--> or --!>). */
  comment(text: string, i: number, end: number, final: boolean): number {
    this.ended = false;
    let k = i;
    for (;;) {
      const d = find(text, '--', k, end);
      if (d === -1) break;
      const c = d + 2 < end ? text.charCodeAt(d + 2) : -1;
      if (c === GT) return this.end(d + 3);
      if (c === BANG) {
        const c2 = d + 3 < end ? text.charCodeAt(d + 3) : -1;
        if (c2 === GT) return this.end(d + 4);
        if (c2 === -1) return final ? end : this.hold(d);
      }
      if (c === -1) return final ? end : this.hold(d);
      k = d + 1;
    }
    if (!final && text.charCodeAt(end - 1) === DASH) return this.hold(end - 1);
    return end;
  }

  /** In a CDATA section (foreign content): after its ]]>. */
  cdata(text: string, i: number, end: number, final: boolean): number {
    this.ended = false;
    const e = find(text, ']]>', i, end);
    if (e !== -1) return this.end(e + 3);
    if (final) return end;
    let p = end;
    while (p > i && end - p < 2 && text.charCodeAt(p - 1) === 0x5d) p--;
    return p < end ? this.hold(p) : end;
  }

  /** In raw text or RCDATA of element `name` (lowercase): at the `<` of its end tag. */
  rawText(text: string, i: number, end: number, final: boolean, name: string): number {
    this.ended = false;
    let k = i;
    for (;;) {
      const lt = find(text, '</', k, end);
      if (lt === -1) return !final && text.charCodeAt(end - 1) === LT ? this.hold(end - 1) : end;
      const m = matchName(text, lt + 2, end, name);
      if (m === 1) return this.end(lt);
      if (m < 0 && !final) return this.hold(lt);
      k = lt + 2;
    }
  }

  /** In script data, escaped (sub 1) or double-escaped (sub 2) or not (0): at the `<` of its </script>. */
  script(text: string, i: number, end: number, final: boolean): number {
    this.ended = false;
    let k = i;
    let dd = -2;
    for (;;) {
      if (this.sub === 0) {
        const lt = find(text, '<', k, end);
        if (lt === -1) return end;
        if (lt + 1 >= end) return final ? end : this.hold(lt);
        const c = text.charCodeAt(lt + 1);
        if (c === SLASH) {
          const m = matchName(text, lt + 2, end, 'script');
          if (m === 1) return this.end(lt);
          if (m < 0 && !final) return this.hold(lt);
          k = lt + 2;
        } else if (c === BANG) {
          if (lt + 3 >= end) {
            if (!final && (lt + 2 >= end || text.charCodeAt(lt + 2) === DASH)) return this.hold(lt);
            k = lt + 2;
          } else if (text.charCodeAt(lt + 2) === DASH && text.charCodeAt(lt + 3) === DASH) {
            this.sub = 1;
            k = lt + 2;
          } else k = lt + 2;
        } else k = lt + 1;
        continue;
      }
      if (dd !== -1 && dd < k) dd = find(text, '-->', k, end);
      const lt = find(text, this.sub === 1 ? '<' : '</', k, end);
      if (dd !== -1 && (lt === -1 || dd < lt)) {
        this.sub = 0;
        k = dd + 3;
        continue;
      }
      if (lt === -1) {
        if (final) return end;
        let p = end;
        if (text.charCodeAt(end - 1) === LT && end - 1 >= k) p = end - 1;
        else while (p > k && end - p < 2 && text.charCodeAt(p - 1) === DASH) p--;
        return p < end ? this.hold(p) : end;
      }
      if (lt + 1 >= end) return final ? end : this.hold(lt);
      const c = text.charCodeAt(lt + 1);
      if (c === SLASH) {
        const m = matchName(text, lt + 2, end, 'script');
        if (m === 1) {
          if (this.sub === 1) {
            this.sub = 0;
            return this.end(lt);
          }
          this.sub = 1;
          k = lt + 8;
        } else if (m < 0 && !final) return this.hold(lt);
        else k = lt + 2;
      } else if (isAlpha(c)) {
        const m = matchName(text, lt + 1, end, 'script');
        if (m === 1) {
          this.sub = 2;
          k = lt + 7;
        } else if (m < 0 && !final) return this.hold(lt);
        else k = lt + 1;
      } else k = lt + 1;
    }
  }

  private end(p: number): number {
    this.ended = true;
    return p;
  }

  private hold(p: number): number {
    this.holdPos = p;
    return -1;
  }
}
