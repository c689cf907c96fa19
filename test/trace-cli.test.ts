// `daxemu replay` and `daxemu analyze` (src/cli/trace-commands.ts), run as a user would,
// through tsx on the sources: the formats recognised by their first bytes, the outputs, the
// binary twin written and read back, and bad input refused with the line and exit code 1.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const TSX = new URL('../node_modules/tsx/dist/loader.mjs', import.meta.url).href;
const CLI = ['--import', TSX, fileURLToPath(new URL('../src/cli/cli.ts', import.meta.url))];
const FIO = fileURLToPath(new URL('./fixtures/fio/mmap-randrw.v3.log', import.meta.url));
let dir = '';

async function daxemu(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [...CLI, ...args], { maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'daxemu-trace-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('daxemu replay and analyze', () => {
  it('replay of a fio iolog prints its operations and the write bytes fio reported', async () => {
    const r = await daxemu('replay', FIO, '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { operations: number; stats: { storeBytes: number } };
    expect(out.stats.storeBytes).toBe(69632);
    expect(out.operations).toBe(41);
  });

  it('replay --write-binary saves a twin that replays to the same counters', async () => {
    const trace = join(dir, 't.trace');
    await writeFile(trace, 'daxemu-trace 1\ndev d0 0 4096\nstore d0 0 64\nclwb d0 0 64\nsfence\nclwb d0 0 64\n');
    const bin = join(dir, 't.bin');
    const a = await daxemu('replay', trace, '--json', '--write-binary', bin);
    expect((await readFile(bin)).subarray(0, 8).toString('latin1')).toBe('DAXEMUTB');
    const b = await daxemu('replay', bin, '--json');
    expect(JSON.parse(b.stdout).stats).toEqual(JSON.parse(a.stdout).stats);
  });

  it('analyze prints the table, --json the report, --markdown the Markdown', async () => {
    const log = join(dir, 'store.log');
    await writeFile(log, '|START|STORE;0x1000;0x1;0x8|FLUSH;0x1000;0x40|FLUSH;0x1000;0x40|FENCE|STORE;0x1040;0x2;0x8|STOP|\n');
    const table = await daxemu('analyze', log);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^pmemcheck store log: 6 operations/);
    expect(table.stdout).toMatch(/\n1 +double-flush +performance/);
    const json = JSON.parse((await daxemu('analyze', log, '--json')).stdout) as { findings: { kind: string }[] };
    expect(json.findings.map((f) => f.kind)).toEqual(['double-flush', 'not-durable']);
    expect((await daxemu('analyze', log, '--markdown')).stdout).toMatch(/^# Flush and fence analysis of pmemcheck store log/);
  });

  it('a bad line exits 1 with its line; a bad flag exits 2', async () => {
    const bad = join(dir, 'bad.trace');
    await writeFile(bad, 'daxemu-trace 1\ndev d0 0 4096\nstore d0 4000 200\n');
    const r = await daxemu('replay', bad);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('daxemu replay: EINVAL: trace line 3: [4000, 4200) is outside the 4096-byte mapping; expected "store TARGET OFF LEN [DATA]" inside it, got "store d0 4000 200"\n');
    expect((await daxemu('analyze', bad, '--format', 'xml')).code).toBe(2);
    expect((await daxemu('analyze', bad, '--write-binary', 'x')).stderr).toMatch(/--write-binary is for replay/);
    expect((await daxemu('replay')).stderr).toMatch(/expected one FILE, got 0/);
  });
});
