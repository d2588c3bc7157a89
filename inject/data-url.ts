// The body of a data: URL, read synchronously (RFC 2397 as the Fetch standard reads it), for the
// worker scripts the runtime must start from a blob: instead.

/** The media type and bytes of a data: URL, or null when it is not one. */
export function decodeDataUrl(url: string): { type: string; bytes: Uint8Array } | null {
  if (!/^data:/i.test(url)) return null;
  const comma = url.indexOf(',');
  if (comma === -1) return null;
  const meta = url.slice(5, comma).trim();
  const payload = url.slice(comma + 1).replace(/#.*$/s, '');
  const base64 = /;[ \t]*base64$/i.test(meta);
  const type = (base64 ? meta.replace(/;[ \t]*base64$/i, '') : meta).trim() || 'text/plain;charset=US-ASCII';
  const raw = percentDecode(new TextEncoder().encode(payload));
  if (!base64) return { type, bytes: raw };
  let text = '';
  for (const b of raw) text += String.fromCharCode(b);
  try {
    const binary = atob(text.replace(/[\t\n\f\r ]/g, ''));
    return { type, bytes: Uint8Array.from(binary, (c) => c.charCodeAt(0)) };
  } catch {
    return null;
  }
}

function hex(b: number | undefined): number {
  if (b === undefined) return -1;
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  const lower = b | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

/** URL percent-decoding of bytes: `%XX` becomes the byte, anything else stays. */
function percentDecode(input: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < input.length; i++) {
    const b = input[i] as number;
    const high = b === 0x25 ? hex(input[i + 1]) : -1;
    const low = high === -1 ? -1 : hex(input[i + 2]);
    if (low === -1) out.push(b);
    else {
      out.push(high * 16 + low);
      i += 2;
    }
  }
  return Uint8Array.from(out);
}
