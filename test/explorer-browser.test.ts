// The explorer in a real browser: Debian's chromium, headless, driven over the DevTools
// protocol by playwright-core (which never downloads a browser of its own). The page is
// built into a temporary folder and served with the COOP/COEP headers; a scripted session
// (a PMD write fault, a msync, a truncate, bad input) is typed into the forms, and what the
// page draws is read back from the DOM and the canvas. The screenshot and the redraw
// timings go to test-output/. Without chromium the suite skips, unless CI is set.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildExplorer } from '../examples/explorer/build.js';
import { serveExplorer } from '../examples/explorer/serve.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const OUT = new URL('../test-output/', import.meta.url);
const present = existsSync(CHROMIUM);
if (!present && !process.env.CI) console.warn(`explorer browser tests skipped: no chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH); under CI=true they run and fail instead`);

describe.skipIf(!present && !process.env.CI)('the explorer in headless chromium', () => {
  let dir = '';
  let server: Server | undefined;
  let url = '';
  let browser: Browser | undefined;

  let missing: Error | undefined;

  beforeAll(async () => {
    // Under CI a missing chromium fails each test (not only the set-up), so that CI counts them.
    if (!present) {
      missing = new Error(`CI is set and there is no chromium at ${CHROMIUM}: .ci/run installs Debian's chromium`);
      return;
    }
    dir = await mkdtemp(join(tmpdir(), 'daxemu-explorer-'));
    await buildExplorer(dir);
    ({ server, url } = await serveExplorer(dir, 0));
    // --no-sandbox: CI runs as root, where chromium's sandbox refuses to start.
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
    await mkdir(OUT, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function open(): Promise<{ page: Page; errors: string[] }> {
    if (missing) throw missing;
    const page = await browser!.newPage({ viewport: { width: 1500, height: 1200 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.waitForSelector('body[data-ready=true]', { timeout: 30_000 });
    return { page, errors };
  }

  /** Fills the control's fields, runs it, and waits for the redraw that follows. */
  async function call(page: Page, id: string, values: Record<string, string> = {}): Promise<void> {
    const count = await page.evaluate(() => window.explorer!.timings.length);
    for (const [name, value] of Object.entries(values)) {
      const field = `#${id}-${name}`;
      const kind = await page.$eval(field, (el) => (el instanceof HTMLSelectElement ? 'select' : (el as HTMLInputElement).type));
      if (kind === 'select') await page.selectOption(field, value);
      else if (kind === 'checkbox') await page.setChecked(field, value === 'on');
      else await page.fill(field, value);
    }
    await page.click(`#run-${id}`);
    await page.waitForFunction((n) => window.explorer!.timings.length > n, count);
  }

  const outcome = (page: Page) => page.$eval('#outcome > span', (el) => ({ code: el.getAttribute('data-code'), text: el.textContent }));
  const entryRows = (page: Page) => page.$$eval('tr.entry', (rows) => rows.map((r) => ({ index: Number(r.getAttribute('data-index')), flags: r.getAttribute('data-flags'), marks: r.getAttribute('data-marks') })));
  const ptRows = (page: Page) => page.$$eval('ul.pt-rows li', (rows) => rows.map((r) => ({ kind: r.getAttribute('data-kind'), state: r.getAttribute('data-state') })));
  const lineCounts = (page: Page) => page.$$eval('#lines span[data-count]', (spans) => Object.fromEntries(spans.map((s) => [s.className, Number(s.getAttribute('data-count'))])));
  /** The colour of line `line` of the entry in the heat map, as [r, g, b]. */
  const lineColour = (page: Page, line: number) => page.$eval('#heat', (c, i) => {
    const canvas = c as HTMLCanvasElement;
    const cols = Number(canvas.dataset.cols);
    const cell = Number(canvas.dataset.cell);
    const [r, g, b] = canvas.getContext('2d')!.getImageData((i % cols) * cell, Math.floor(i / cols) * cell, 1, 1).data;
    return [r, g, b];
  }, line);
  const RED = [0xd9, 0x53, 0x4f];
  const GREEN = [0x5c, 0xb8, 0x5c];

  it('a PMD write fault, a msync and a truncate, drawn as the emulator has them; bad input shows the error codes', async () => {
    const { page, errors } = await open();
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    await call(page, 'create', { path: '/data', size: '4M' });
    await call(page, 'mmap');
    // A first store 4 KiB into each 2 MiB half: two PMD write faults.
    await call(page, 'store', { offset: '0x1000', bytes: 'de ad be ef' });
    await call(page, 'store', { offset: '0x200000', bytes: '01' });
    expect(await entryRows(page)).toEqual([{ index: 0, flags: 'PMD', marks: 'DIRTY' }, { index: 512, flags: 'PMD', marks: 'DIRTY' }]);
    expect(await ptRows(page)).toEqual([{ kind: 'pmd', state: 'RW' }, { kind: 'pmd', state: 'RW' }]);
    await call(page, 'load', { offset: '0x1000', length: '4' });
    expect(await page.$eval('#result', (el) => el.textContent)).toBe('de ad be ef');
    await page.click('tr.entry[data-index="0"]');
    expect(await lineCounts(page)).toEqual({ dirty: 1, flushed: 0, durable: 32767 });
    expect(await lineColour(page, 64)).toEqual(RED); // 0x1000 / 64: the stored line
    expect(await lineColour(page, 65)).toEqual(GREEN);

    // The timed redraw: one more store on the 4 MiB file, with the JIT warmed by the calls above.
    await call(page, 'store', { offset: '0x1040', bytes: '02' });
    const timing = await page.evaluate(() => window.explorer!.timings.at(-1)!);
    expect(timing.call).toBe('store');
    expect(timing.renderMs).toBeGreaterThan(0);

    // A clwb without a fence: the line is written back but not durable until the sfence.
    await call(page, 'flush', { offset: '0x1040', length: '64', instruction: 'clwb' });
    expect(await lineCounts(page)).toEqual({ dirty: 1, flushed: 1, durable: 32766 });
    expect(await lineColour(page, 65)).toEqual([0xf0, 0xad, 0x4e]);
    await page.screenshot({ path: new URL('explorer-flushed.png', OUT).pathname, fullPage: true });
    await call(page, 'sfence');
    expect(await lineCounts(page)).toEqual({ dirty: 1, flushed: 0, durable: 32767 });
    expect(await lineColour(page, 65)).toEqual(GREEN);

    await call(page, 'msync', { offset: '0', length: '4M' });
    expect(await entryRows(page)).toEqual([{ index: 0, flags: 'PMD', marks: '' }, { index: 512, flags: 'PMD', marks: '' }]);
    expect(await ptRows(page)).toEqual([{ kind: 'pmd', state: 'RO' }, { kind: 'pmd', state: 'RO' }]);
    expect(await lineCounts(page)).toEqual({ dirty: 0, flushed: 0, durable: 32768 });
    expect(await lineColour(page, 64)).toEqual(GREEN);
    expect(await page.$eval('#report', (el) => [el.getAttribute('data-entries'), el.getAttribute('data-lines'), el.getAttribute('data-dirty')])).toEqual(['2', '65536', '2']);

    await call(page, 'truncate', { file: '', size: '2M' });
    expect((await entryRows(page)).map((e) => e.index)).toEqual([0]);
    expect(await ptRows(page)).toEqual([{ kind: 'pmd', state: 'RO' }, { kind: 'none', state: null }]);
    // Past the new end: the emulator's SIGBUS, and the page still shows the one entry.
    await call(page, 'store', { offset: '0x200000' });
    expect(await outcome(page)).toMatchObject({ code: 'SIGBUS', text: expect.stringMatching(/SIGBUS store: page 512 is beyond the end of \/data/) });
    expect((await entryRows(page)).map((e) => e.index)).toEqual([0]);
    // A field the control refuses before the emulator sees it, and the emulator's ENOSPC.
    const traced = await page.$eval('#trace-count', (el) => el.textContent);
    await call(page, 'store', { offset: 'abc' });
    expect(await outcome(page)).toMatchObject({ code: 'EINVAL', text: expect.stringMatching(/offset: expected an integer/) });
    await call(page, 'create', { path: '/big', size: '128M', allocate: 'written' });
    expect(await outcome(page)).toMatchObject({ code: 'ENOSPC' });
    expect(await page.$eval('#trace-count', (el) => el.textContent)).toBe(traced);
    // Pool files need Node: in the page, save refuses with the emulator's EOPNOTSUPP.
    expect(await page.evaluate(() => window.explorer!.session.emu.save('/tmp/x').then(() => 'saved', (e: { code?: string }) => e.code))).toBe('EOPNOTSUPP');

    const trace = await page.$eval('#trace', (el) => el.textContent ?? '');
    expect(trace).toMatch(/^# tracer: nop$/m);
    expect(trace).toMatch(/^ +daxemu-1 +\[000\] \.\.\.\.\. +\d+\.\d{6}: dax_pmd_fault: dev 259:0 ino 0xc shared WRITE\|ALLOW_RETRY\|KILLABLE\|USER\|INTERRUPTIBLE address 0x7f0000001000 vm_start 0x7f0000000000 vm_end 0x7f0000400000 pgoff 0x1 max_pgoff 0x400 $/m);
    // The PMD path never reports MAJOR (fs/dax.c dax_iomap_pmd_fault; docs/kernel-rules.md §10).
    expect(trace).toMatch(/dax_pmd_fault_done: .* address 0x7f0000001000 .* NOPAGE$/m);
    expect(trace).toMatch(/dax_writeback_range: dev 259:0 ino 0xc pgoff 0-0x3ff$/m);
    expect(trace).toMatch(/dax_writeback_one: dev 259:0 ino 0xc pgoff 0 pglen 0x200$/m);
    expect(trace).toMatch(/dax_pmd_fault_done: .* pgoff 0x200 max_pgoff 0x200 SIGBUS$/m);

    await page.click('tr.entry[data-index="0"]');
    await page.screenshot({ path: new URL('explorer.png', OUT).pathname, fullPage: true });
    const timings = await page.evaluate(() => window.explorer!.timings);
    await writeFile(new URL('explorer-timings.json', OUT), JSON.stringify({ timedStore: timing, all: timings }, null, 2) + '\n');
    console.log(`explorer: redraw after one store on a 4 MiB file took ${timing.renderMs.toFixed(2)} ms (the call ${timing.callMs.toFixed(2)} ms)`);
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);

  it('runs the core in a Worker on the page\'s shared memory', async () => {
    const { page, errors } = await open();
    await call(page, 'create', { path: '/w', size: '64K' });
    await call(page, 'mmap');
    await call(page, 'store', { offset: '0', bytes: '11' });
    await call(page, 'msync', { offset: '0', length: '64K' });
    await page.click('tr.entry[data-index="0"]');
    expect(await lineCounts(page)).toEqual({ dirty: 0, flushed: 0, durable: 64 });
    await page.click('#run-worker');
    await page.waitForSelector('#worker-out[data-ok]');
    const out = await page.$eval('#worker-out', (el) => ({ ok: el.getAttribute('data-ok'), bytes: el.getAttribute('data-bytes'), text: el.textContent }));
    expect(out.ok).toBe('true');
    expect(out.bytes).toMatch(/^c0 ff ee [0-9a-f]{2}$/);
    expect(out.text).toMatch(/worker on CPU 1 stored/);
    // The worker's store made the entry's first line dirty, and the page's own core sees it.
    await page.waitForFunction(() => document.querySelector('#lines span.dirty')?.getAttribute('data-count') === '1');
    expect(await lineColour(page, 0)).toEqual(RED);
    await page.screenshot({ path: new URL('explorer-worker.png', OUT).pathname, fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});
