// The follower's page on a proxied host: a status bar (with navigation for participants with
// control) and a script-free mirror frame that the injected script fills from the hub.

import { VIEW_PAGE_MARKER } from '../protocol/messages.js';
import { injectionTag } from './html-inject.js';

const STYLE = `html,body{margin:0;height:100%;overflow:hidden;font:14px/1.4 system-ui,sans-serif}
#cobrowse-bar{position:fixed;top:0;left:0;right:0;height:36px;display:flex;align-items:center;gap:.6rem;padding:0 .8rem;background:#1d2330;color:#fff;z-index:2}
#cobrowse-status{opacity:.85;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
#cobrowse-nav{display:flex;gap:.3rem;align-items:center;flex:1;min-width:0}#cobrowse-nav[hidden]{display:none}
#cobrowse-nav button{font:inherit;background:#323a4f;color:#fff;border:0;border-radius:4px;padding:.15rem .5rem;cursor:pointer}
#cobrowse-go{display:flex;flex:1;min-width:0}#cobrowse-url{flex:1;min-width:0;font:inherit;border-radius:4px;border:0;padding:.15rem .4rem}
#cobrowse-bar :focus-visible{outline:2px solid #91a7ff;outline-offset:1px}
#cobrowse-stage{position:absolute;top:36px;left:0;right:0;bottom:0;overflow:hidden;background:#e9ecf2}
#cobrowse-mirror{border:0;display:block;background:#fff;width:100%;height:100%}
#cobrowse-focus{position:absolute;pointer-events:none;border:2px solid #4c6ef5;border-radius:4px;box-shadow:0 0 0 3px #4c6ef540}#cobrowse-focus[hidden]{display:none}`;

/** Renders the follower page for a participant of the given role, with the site's mask selectors. */
export function viewPage(role: string, mask: readonly string[]): string {
  return `<!DOCTYPE html><html lang="en" ${VIEW_PAGE_MARKER}="${role}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>Cobrowsing</title><style>${STYLE}</style>
${injectionTag({ mask })}</head>
<body><div id="cobrowse-bar"><strong>Cobrowsing</strong><span id="cobrowse-role">${role === 'observer' ? 'observer' : 'with control'}</span>
<nav id="cobrowse-nav" aria-label="Navigate the shared page" hidden><button type="button" id="cobrowse-back" aria-label="Back">&#8592;</button><button type="button" id="cobrowse-forward" aria-label="Forward">&#8594;</button><button type="button" id="cobrowse-reload" aria-label="Reload">&#8635;</button><form id="cobrowse-go"><input id="cobrowse-url" aria-label="Address" autocomplete="off" spellcheck="false"></form></nav>
<span id="cobrowse-status" role="status" aria-live="polite">connecting…</span></div>
<div id="cobrowse-stage"><iframe id="cobrowse-mirror" title="The host's page" sandbox="allow-same-origin"></iframe><div id="cobrowse-focus" hidden></div></div></body></html>`;
}
