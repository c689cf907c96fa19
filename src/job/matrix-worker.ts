// A matrix worker thread: runs the cells it is given and posts each result back as it finishes.
import { parentPort, workerData } from 'node:worker_threads';
import { runCell, type CellSpec } from './cell.js';

const cells = workerData as { spec: CellSpec; index: number }[];
for (const { spec, index } of cells) parentPort!.postMessage({ index, result: await runCell(spec) });
