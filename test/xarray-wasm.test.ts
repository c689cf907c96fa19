// The tree contract (test/forest-contract.ts) on the wasm core, both builds.
import { BUILDS, makeCore } from './helpers.js';
import { forestContract } from './forest-contract.js';

for (const build of BUILDS) {
  forestContract(`wasm core (${build} build)`, () => makeCore(build));
}
