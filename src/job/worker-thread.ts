/**
 * Worker threads of the job layer (the matrix's cell workers, a shared cell's CPUs): the
 * worker's file is the build's .js, or the source's .ts when running under tsx.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * The file of worker `base` (a name without extension, beside this module): the build's .js,
 * or the source's .ts when running under a loader (tsx), which workers inherit through
 * execArgv; null when neither can run.
 */
export function workerFile(base: string): URL | null {
  for (const name of [`./${base}.js`, `./${base}.ts`]) {
    const url = new URL(name, import.meta.url);
    if (existsSync(fileURLToPath(url)) && (name.endsWith('.js') || process.execArgv.some((a) => a.includes('tsx')))) return url;
  }
  return null;
}

/**
 * Starts a worker on `file`. A .ts worker (running from source) first registers tsx inside
 * the thread: Node 20 does not hand its parent's --import loader to workers.
 */
export function startWorker(file: URL, workerData: unknown): Worker {
  if (!file.pathname.endsWith('.ts')) return new Worker(file, { workerData });
  const api = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(file.href)}); });`;
  return new Worker(boot, { eval: true, workerData });
}
