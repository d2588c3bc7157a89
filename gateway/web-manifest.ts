// A web app manifest (W3C Web Application Manifest and its extensions, as Chromium reads them)
// with its URL members mapped: start_url, scope and id must be of the document's origin (Chromium
// ignores them otherwise: "property 'start_url' ignored, should be same origin as document"), so
// absolute URLs of the real origin left the installed app's start page, scope and identity to the
// page it was found on; icons, screenshots and shortcuts of another origin were fetched from the
// real origin. Relative URLs stay (they resolve against the manifest's proxied URL).
// related_applications stay (links to app stores, not loaded).

import { isJsonObject, readJsonObject, UNREADABLE } from '../protocol/script-json.js';

type MapUrl = (url: string) => string | null;

/** Members of the manifest that hold one URL. */
const URL_MEMBERS = ['start_url', 'scope', 'id'];
/** Members holding lists of images (each with `src`). */
const IMAGE_LISTS = ['icons', 'screenshots'];

/** Maps `obj[key]` when it is a string; true when it changed. */
function mapMember(obj: Record<string, unknown>, key: string, mapUrl: MapUrl): boolean {
  const value = obj[key];
  if (typeof value !== 'string') return false;
  const mapped = mapUrl(value);
  if (mapped === null || mapped === value) return false;
  obj[key] = mapped;
  return true;
}

/** Maps `key` of every object of the list `list`, and the images of their own image lists (one level); true when any changed. */
function mapList(list: unknown, key: string | null, mapUrl: MapUrl, nested = true): boolean {
  if (!Array.isArray(list)) return false;
  let changed = false;
  for (const item of list) {
    if (!isJsonObject(item)) continue;
    if (key !== null && mapMember(item, key, mapUrl)) changed = true;
    if (nested) for (const images of IMAGE_LISTS) if (mapList(item[images], 'src', mapUrl, false)) changed = true;
  }
  return changed;
}

/** What a manifest that cannot be read or written becomes: none (never one with its URLs unmapped). */
export const NO_MANIFEST = '{}';

/**
 * The manifest `json` with its URLs mapped, or null when nothing changed or it is no manifest (the
 * browser reads none either); NO_MANIFEST when it cannot be read (Blink's reader takes comments
 * and more, parseLenientJson) or written back (never throws).
 */
export function mapManifest(json: string, mapUrl: MapUrl): string | null {
  const manifest = readJsonObject(json);
  if (manifest === UNREADABLE) return NO_MANIFEST;
  if (manifest === null) return null;
  try {
    let changed = false;
    for (const key of URL_MEMBERS) if (mapMember(manifest, key, mapUrl)) changed = true;
    for (const images of IMAGE_LISTS) if (mapList(manifest[images], 'src', mapUrl, false)) changed = true;
    if (mapList(manifest.shortcuts, 'url', mapUrl)) changed = true;
    if (mapList(manifest.protocol_handlers, 'url', mapUrl)) changed = true;
    if (mapList(manifest.file_handlers, 'action', mapUrl)) changed = true;
    if (isJsonObject(manifest.share_target) && mapMember(manifest.share_target, 'action', mapUrl)) changed = true;
    if (isJsonObject(manifest.note_taking) && mapMember(manifest.note_taking, 'new_note_url', mapUrl)) changed = true;
    return changed ? JSON.stringify(manifest) : null;
  } catch {
    // A mapper that threw, or a manifest nested too deep to write back.
    return NO_MANIFEST;
  }
}
