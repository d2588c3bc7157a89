// The follower's page on a proxied host: a status bar and a script-free mirror frame that the
// injected script fills from the hub.

import { OWN_NODE_MARKER, VIEW_PAGE_MARKER } from '../protocol/messages.js';

/** Renders the follower page for a participant of the given role. */
export function viewPage(role: string): string {
  return `<!DOCTYPE html><html lang="en" ${VIEW_PAGE_MARKER}="${role}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>Cobrowsing</title>
<style>html,body{margin:0;height:100%;overflow:hidden;font:14px/1.4 system-ui,sans-serif}
#cobrowse-bar{position:fixed;top:0;left:0;right:0;height:32px;display:flex;align-items:center;gap:.6rem;padding:0 .8rem;background:#1d2330;color:#fff;z-index:2}
#cobrowse-status{opacity:.85}#cobrowse-stage{position:absolute;top:32px;left:0;right:0;bottom:0;overflow:hidden;background:#fff}
#cobrowse-mirror{border:0;width:100%;height:100%;display:block;background:#fff}</style>
<script src="/__cobrowse/inject.js" ${OWN_NODE_MARKER}></script></head>
<body><div id="cobrowse-bar" role="status"><strong>Cobrowsing</strong><span id="cobrowse-role">${role === 'observer' ? 'observer' : 'participant'}</span><span id="cobrowse-status" aria-live="polite">connecting…</span></div>
<div id="cobrowse-stage"><iframe id="cobrowse-mirror" title="The host's page" sandbox="allow-same-origin"></iframe></div></body></html>`;
}
