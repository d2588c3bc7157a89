// The one way the injected code reports a problem: quietly, never into the site's page.

/** Logs at debug level; never throws. */
export function report(err: unknown): void {
  try {
    console.debug('[cobrowse]', err);
  } catch {
    // Nothing else is safe to do inside the site's page.
  }
}
