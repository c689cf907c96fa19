/** The registry of benchmark suites by name: add a suite here and `--suite NAME` runs it. */
import type { SuiteRunner } from './suite.js';
import { runBandwidthSuite } from './bandwidth.js';
import { runDaxSuite } from './dax.js';
import { runDaxModelSuite } from './dax-model.js';
import { runHardwareSuite } from './hardware.js';
import { runMatrixSuite } from './matrix.js';
import { runPoolSuite } from './pool.js';
import { runScaleSuite } from './scale.js';
import { runThreadsSuite } from './threads.js';
import { runTracesSuite } from './traces.js';
import { runXarraySuite } from './xarray.js';

export const SUITES: ReadonlyMap<string, SuiteRunner> = new Map<string, SuiteRunner>([
  ['xarray', runXarraySuite],
  ['hardware', runHardwareSuite],
  ['dax', runDaxSuite],
  ['dax-model', runDaxModelSuite],
  ['matrix', runMatrixSuite],
  ['bandwidth', runBandwidthSuite],
  ['pool', runPoolSuite],
  ['scale', runScaleSuite],
  ['traces', runTracesSuite],
  ['threads', runThreadsSuite],
]);
