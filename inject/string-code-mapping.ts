// Code the page's script makes from strings is script too: string timers (setTimeout('...'))
// and functions made from strings get their references to the top window wrapped, as the gateway
// wraps them in pages (protocol/top-references.ts).

import { scriptWithTopReferences } from '../protocol/top-references.js';

/** Installs the wrapping of string timers and of the function constructors in this window. */
export function installStringCodeMapping(): void {
  // String timers.
  for (const name of ['setTimeout', 'setInterval'] as const) {
    const timer = window[name] as (handler: unknown, ...rest: unknown[]) => number;
    (window as unknown as Record<string, unknown>)[name] = function (this: unknown, handler: unknown, ...rest: unknown[]) {
      return timer.call(this, typeof handler === 'string' ? (scriptWithTopReferences(handler) ?? handler) : handler, ...rest);
    };
  }
  wrapFunctionConstructors();
}

/**
 * Code made from strings at run time is script too: `Function(...)`, `new Function(...)` and the
 * async, generator and async generator function constructors (reached through a function's
 * `constructor`) get their body's references to the top window wrapped, as string timers do.
 * `Function` and each prototype's `constructor` are replaced by one wrapper, so that
 * `f.constructor === Function` and `instanceof` hold. A direct `eval` cannot be wrapped (a replaced
 * `eval` is an indirect one, run in the global scope): it is left as it is.
 */
function wrapFunctionConstructors(): void {
  const prototypes = [
    Function.prototype,
    Object.getPrototypeOf(async () => {}),
    Object.getPrototypeOf(function* () {}),
    Object.getPrototypeOf(async function* () {}),
  ] as { constructor: new (...args: string[]) => unknown }[];
  const nativeFunction = Function;
  let functionWrapper: unknown = null;
  for (const proto of prototypes) {
    const native = proto.constructor;
    if ((native as unknown as Record<symbol, boolean>)[WRAPPED_CONSTRUCTOR]) continue;
    const wrapper = function (this: unknown, ...args: unknown[]) {
      // Only a string body is rewritten: anything else (a TrustedScript, an object with its own
      // toString) goes to the native constructor as it came, which converts it as it would.
      const last = args.length - 1;
      const body = args[last];
      if (typeof body === 'string') args[last] = scriptWithTopReferences(body) ?? body;
      return Reflect.construct(native, args, new.target ?? native);
    };
    // As natively: Object.getPrototypeOf(AsyncFunction) === Function.
    if (functionWrapper !== null && Object.getPrototypeOf(native) === nativeFunction) Object.setPrototypeOf(wrapper, functionWrapper as object);
    Object.defineProperties(wrapper, {
      name: { value: native.name },
      length: { value: native.length },
      prototype: { value: proto, writable: false, enumerable: false, configurable: false },
      [WRAPPED_CONSTRUCTOR]: { value: true },
    });
    Object.defineProperty(proto, 'constructor', { value: wrapper, writable: true, enumerable: false, configurable: true });
    if ((proto as unknown) === nativeFunction.prototype) {
      functionWrapper = wrapper;
      (window as unknown as { Function: unknown }).Function = wrapper;
    }
  }
}

/** Marks the wrappers (the same symbol in every evaluation of the bundle in a window). */
const WRAPPED_CONSTRUCTOR = Symbol.for('cobrowse.wrappedConstructor');
