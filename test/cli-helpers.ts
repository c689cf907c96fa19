// Running the daxemu command as a user would, through tsx on the sources: exit code, stdout, stderr.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
// tsx by its file, so the command also starts from a working directory outside the project.
const TSX = new URL('../node_modules/tsx/dist/loader.mjs', import.meta.url).href;
const CLI = ['--import', TSX, new URL('../src/cli/cli.ts', import.meta.url).pathname];

/** Runs the command in this working directory. */
export async function daxemu(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return daxemuIn(process.cwd(), ...args);
}

/** Runs the command with `cwd` as its working directory, where a default report would land. */
export async function daxemuIn(cwd: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [...CLI, ...args], { maxBuffer: 64 << 20, cwd });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

