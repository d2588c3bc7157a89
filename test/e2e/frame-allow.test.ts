// An iframe's allow attribute that grants a feature to another of the site's origins
// (`allow="geolocation https://maps.example"`) named the real origin, which the frame does not
// have through the gateway: the framed page had the feature off, where the real site's frame has
// it on. The session's origins in it are mapped, in pages (rewriter) and in what the page's script
// sets (the allow property, setAttribute, markup); other origins stay as written and keep the
// feature off. The same pages in Chromium directly and through the gateway.

import { describe, expect, it } from 'vitest';
import { pageReading } from '../helpers/browser.js';
import { createSession } from '../helpers/gateway.js';
import { useTwoSites } from '../helpers/two-sites.js';

const sites = useTwoSites(
  (_req, res) => {
    const allow = `geolocation ${sites.bOrigin}/any/path; camera https://elsewhere.example; microphone 'src'; payment 'none'`;
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(
      `<!doctype html><script>window.reports = {}; addEventListener('message', (e) => { reports[e.data.name] = e.data; });</script>` +
        `<iframe allow="${allow}" src="${sites.bOrigin}/frame?name=markup"></iframe>` +
        `<div id="box"></div>` +
        `<script>
          const allow = ${JSON.stringify(allow)};
          const byProperty = document.createElement('iframe');
          byProperty.allow = allow;
          byProperty.src = '${sites.bOrigin}/frame?name=property';
          document.body.append(byProperty);
          const byAttribute = document.createElement('iframe');
          byAttribute.setAttribute('allow', allow);
          byAttribute.setAttribute('src', '${sites.bOrigin}/frame?name=attribute');
          document.body.append(byAttribute);
          document.getElementById('box').innerHTML = '<iframe allow="' + allow.replace(/'/g, '&#39;') + '" src="${sites.bOrigin}/frame?name=innerHTML"></iframe>';
        </script>`,
    );
  },
  (req, res) => {
    const name = new URL(req.url ?? '/', 'http://x').searchParams.get('name');
    res.writeHead(200, { 'content-type': 'text/html' });
    // What the framed page of B may use (Chromium's policy API).
    res.end(
      `<!doctype html><script>const policy = document.permissionsPolicy || document.featurePolicy;` +
        `parent.postMessage({ name: ${JSON.stringify(name)}, geolocation: policy.allowsFeature('geolocation'), camera: policy.allowsFeature('camera'),` +
        ` microphone: policy.allowsFeature('microphone'), payment: policy.allowsFeature('payment') }, '*');</script>`,
    );
  },
);

function framePolicies(url: string): Promise<unknown> {
  return pageReading(sites.browser, url, 'window.reports', 'Object.keys(window.reports).length === 4');
}

describe('iframe allow', () => {
  it('grants a frame of another of the session’s origins what the page’s allow attribute grants it', async () => {
    const direct = await framePolicies(`${sites.aOrigin}/`);
    const expected = { geolocation: true, camera: false, microphone: true, payment: false };
    expect(direct).toEqual(Object.fromEntries(['markup', 'property', 'attribute', 'innerHTML'].map((name) => [name, { name, ...expected }])));
    const session = await createSession(sites.t, `${sites.aOrigin}/`);
    expect(await framePolicies(session.hostUrl)).toEqual(direct);
  });
});
