/// <reference lib="esnext.disposable" preserve="true" />
/**
 * Symbol.dispose, for `using` (explicit resource management). Node 20 has it; a runtime
 * without it gets the registered symbol 'Symbol.dispose', which is what TypeScript's
 * downlevel `using` finds on the global Symbol, and which every other copy of this line
 * (another daxemu bundle, a polyfill that does the same) agrees on. Imported for this effect
 * before any class defines a [Symbol.dispose] method.
 */
const symbols = Symbol as unknown as { dispose?: symbol };
symbols.dispose ??= Symbol.for('Symbol.dispose');

export const DISPOSE: typeof Symbol.dispose = Symbol.dispose;
