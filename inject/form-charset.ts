// Forms of a page the gateway transcoded to UTF-8 from a charset its forms must keep (ISO-2022-JP,
// see gateway/charset.ts): a form without accept-charset gets it when it is submitted, so the site
// receives its fields encoded as it would directly (the document's encoding is now UTF-8).

/** Sets accept-charset on forms that have none, as they are submitted (submit event, submit()). */
export function installFormCharset(charset: string): void {
  const keep = (form: unknown) => {
    if (form instanceof HTMLFormElement && !form.hasAttribute('accept-charset')) form.acceptCharset = charset;
  };
  // The encoding is picked after the submit event (HTML: form submission algorithm).
  addEventListener('submit', (e) => keep(e.target), true);
  const submit = HTMLFormElement.prototype.submit;
  HTMLFormElement.prototype.submit = function (this: HTMLFormElement) {
    keep(this);
    return submit.call(this);
  };
}
