// The top window, as a frame's script reaches it: `top` cannot be replaced in a window (it is
// [LegacyUnforgeable]), so the gateway wraps the references that navigate it or post to it
// (`top.location`, `top.postMessage`, `window.top.location`, ...; gateway/rewrite/js-top.ts) in
// a call of this global, and the page runtime (inject/url-runtime.ts) answers with its wrapper
// of the top window, whose location and postMessage map real URLs and origins.

/** The global that rewritten references call: (value) => the runtime's wrapper when value is the top window of a frame, else value. */
export const TOP_HOOK = '__cobrowseTop';
