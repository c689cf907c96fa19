/** What a result was measured on: the machine and the commit of the code under test. */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

/** The machine part of a suite's JSON. */
export interface MachineInfo {
  cpu: string;
  cores: number;
  node: string;
  platform: string;
}

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** CPU model, core count, node version and platform of this machine. */
export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() || 'unknown',
    cores: cpus.length,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}

/** Runs git in the repository; null when git fails or is missing. */
function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return null;
  }
}

/** The short commit hash, with "-dirty" when the work tree has changes; "unknown" outside git. */
export function gitCommit(): string {
  const head = git(['rev-parse', '--short', 'HEAD'])?.trim();
  if (!head) return 'unknown';
  const status = git(['status', '--porcelain']);
  return status && status.trim() !== '' ? `${head}-dirty` : head;
}
