// A Permissions-Policy that grants a feature to another of the site's origins
// (`geolocation=(self "https://maps.example")`) named the real origin, which no frame has through
// the gateway: the framed page of that origin had the feature off, where the real site's frame
// has it on. The session's origins in the policy are mapped to their proxied hosts (other origins
// stay as written and keep the feature off). The same pages in Chromium directly and through the gateway.

import { describe, expect, it } from 'vitest';
import { pageReading } from '../helpers/browser.js';
import { createSession } from '../helpers/gateway.js';
import { useTwoSites } from '../helpers/two-sites.js';

const sites = useTwoSites(
  (_req, res) => {
    res.writeHead(200, {
      'content-type': 'text/html',
      'permissions-policy': `geolocation=(self "${sites.bOrigin}"), camera=(self "https://elsewhere.example")`,
    });
    res.end(
      `<!doctype html><script>window.reports = []; addEventListener('message', (e) => reports.push(e.data));</script>` +
        `<iframe allow="geolocation; camera" src="${sites.bOrigin}/frame"></iframe>`,
    );
  },
  (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    // What the framed page of B may use (Chromium's policy API).
    res.end(
      `<!doctype html><script>const policy = document.permissionsPolicy || document.featurePolicy;` +
        `parent.postMessage({ geolocation: policy.allowsFeature('geolocation'), camera: policy.allowsFeature('camera') }, '*');</script>`,
    );
  },
);

function framePolicy(url: string): Promise<unknown> {
  return pageReading(sites.browser, url, 'window.reports[0]', 'window.reports.length > 0');
}

describe('Permissions-Policy', () => {
  it('grants a frame of another of the session’s origins what the site grants it', async () => {
    const direct = await framePolicy(`${sites.aOrigin}/`);
    expect(direct).toEqual({ geolocation: true, camera: false });
    const session = await createSession(sites.t, `${sites.aOrigin}/`);
    expect(await framePolicy(session.hostUrl)).toEqual(direct);
  });
});
