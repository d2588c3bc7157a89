// decodeDataUrl: how the page-side runtime reads a data: worker script before starting it from a blob:.

import { describe, expect, it } from 'vitest';
import { decodeDataUrl } from '../../protocol/data-url.js';

const text = (url: string) => {
  const body = decodeDataUrl(url);
  return body && { type: body.type, text: new TextDecoder().decode(body.bytes) };
};

describe('decodeDataUrl', () => {
  it('percent-encoded text, UTF-8 bytes kept', () => {
    expect(text(`data:text/javascript,${encodeURIComponent('postMessage("é ok")')}`)).toEqual({ type: 'text/javascript', text: 'postMessage("é ok")' });
  });
  it('raw characters and a malformed escape stay as written', () => {
    expect(text('data:text/javascript,a=1%zz;b=%41é')).toEqual({ type: 'text/javascript', text: 'a=1%zz;b=Aé' });
  });
  it('base64, with spaces and a parameter before it', () => {
    expect(text(`data:text/javascript;charset=utf-8;base64,${Buffer.from('x = 1;').toString('base64').replace(/(..)/, '$1 ')}`)).toEqual({
      type: 'text/javascript;charset=utf-8',
      text: 'x = 1;',
    });
  });
  it('no media type: text/plain;charset=US-ASCII, the fragment dropped', () => {
    expect(text('data:,hello#frag')).toEqual({ type: 'text/plain;charset=US-ASCII', text: 'hello' });
  });
  it('not a data: URL, no comma, or bad base64: null', () => {
    expect(decodeDataUrl('blob:http://x/1')).toBeNull();
    expect(decodeDataUrl('data:text/javascript')).toBeNull();
    // A comma after the fragment's `#` is the fragment's.
    expect(decodeDataUrl('data:text/html#x,<p>y')).toBeNull();
    expect(decodeDataUrl('data:;base64,@@@')).toBeNull();
  });
});
