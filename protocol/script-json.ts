// JSON the gateway writes into a <script> element of a page (import maps, speculation rules).

/** ASCII JSON (right in any charset of the page) with no '<' that could end the script element. */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
