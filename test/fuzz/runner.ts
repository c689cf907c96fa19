/**
 * The fuzzer's interpreter: runs one sequence of commands (test/fuzz/commands.ts) on a
 * fresh emulator through the public API, keeps the shadow (test/fuzz/shadow.ts) in step, and
 * checks after every command that
 *   - the call gave what the shadow predicts: its value, or the PmemError code it must throw
 *     (SIGBUS past the end of the file, EFAULT outside a mapping, EINVAL after munmap,
 *     EBADF after unlink, ...), and never another error;
 *   - checkInvariants() holds, the clock of the current CPU did not go back, every counter
 *     is a finite number that is not negative;
 * and at every sync point (fsync, fdatasync, msync, sync, a fence that completes a user
 * flush, a concurrent fsync) that a guaranteed crash image holds every promised byte, as do
 * the crash images and pool files the sequence asks for itself.
 *
 * Every call it makes is also written down as TypeScript against the public API, so a
 * failure comes with a snippet that replays it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { createEmulator, openEmulator, PmemError, type DaxFile, type DeviceMapping, type Emulator, type EmulatorOptions, type FileMapping } from '../../src/index.js';
import { CAPACITY, MAX_FILE, MiB, PATHS, pattern, type Command, type FuzzConfig, type TaskSpec } from './commands.js';
import { DeviceShadow, FileShadow, touchedLines, wholeLines } from './shadow.js';

const PAGE = 4096;

/** A failed check: the message, and the snippet of the calls up to the one that failed. */
export class FuzzFailure extends Error {
  constructor(
    readonly why: string,
    readonly snippet: string,
    /** The command that failed; the commands after it never ran. */
    readonly step: number,
  ) {
    super(`${why}\n\n${snippet}`);
    this.name = 'FuzzFailure';
  }
}

export function emulatorOptions(c: FuzzConfig): EmulatorOptions {
  return {
    capacity: CAPACITY, preset: c.preset, persistence: c.persistence, build: c.build, kernel: c.kernel, flush: c.flush, writeback: c.writeback,
    fixes: c.truncateWriteback ? ['truncate-writeback'] : [], seed: c.seed, cacheBytes: c.cacheLines * 64,
  };
}

interface FileState {
  f: DaxFile;
  s: FileShadow;
  name: string;
}

interface MapState {
  m: FileMapping;
  file: FileState;
  name: string;
  shared: boolean;
  sync: boolean;
  mapped: boolean;
  /** Private copies by page of the mapping: their bytes, and which of them are unknown. */
  cow: Map<number, { data: Uint8Array; fuzzy: Uint8Array }>;
}

interface DevState {
  d: DeviceMapping;
  name: string;
  mapped: boolean;
}

const outcome = (err: unknown): string => (err instanceof PmemError ? err.code : `${(err as Error)?.name ?? typeof err}: ${(err as Error)?.message ?? String(err)}`);

class Run {
  emu!: Emulator;
  files: FileState[] = [];
  maps: MapState[] = [];
  devs: DevState[] = [];
  dev: DeviceShadow | null = null;
  named = new Map<string, FileState>();
  cpu = 0;
  lastNow = new Map<number, number>();
  lines: string[] = [];
  step = -1;
  op = '';
  counter = { f: 0, m: 0, d: 0, image: 0, pool: 0 };
  nextAddress = 0x6000_0000_0000;
  /** What ran: calls by command, and how each ended (a value or a PmemError code). */
  readonly tally = new Map<string, number>();

  constructor(
    readonly config: FuzzConfig,
    readonly poolDir: string,
  ) {}

  fail(why: string): never {
    throw new FuzzFailure(`step ${this.step}: ${why}`, this.snippet(`^ fails: ${why}`), this.step);
  }

  snippet(last: string): string {
    return [
      `// The daxemu fuzzer's counterexample, as calls on the public API.`,
      `import { createEmulator, openEmulator, PmemError } from 'daxemu';`,
      `const bytes = (fill: number, n: number) => Uint8Array.from({ length: n }, (_, i) => (fill + i * 7) & 255);`,
      `const expectCode = (run: () => unknown, code: string) => { try { run(); } catch (e) { if (e instanceof PmemError && e.code === code) return; throw e; } throw new Error('expected ' + code); };`,
      ...this.lines,
      `// ${last}`,
    ].join('\n');
  }

  /** Runs `call` (written as `code`), which must return, or throw a PmemError with `expected`. */
  call<T>(code: string, expected: string | null, run: () => T): T | undefined {
    this.lines.push(expected ? `expectCode(() => ${code}, '${expected}');` : `${code};`);
    const key = `${this.op} ${expected ?? 'ok'}`;
    this.tally.set(key, (this.tally.get(key) ?? 0) + 1);
    let value: T;
    try {
      value = run();
    } catch (err) {
      if (expected && err instanceof PmemError && err.code === expected) return undefined;
      return this.fail(`${code} threw ${outcome(err)}${err instanceof Error ? ` (${err.message})` : ''}, expected ${expected ?? 'success'}`);
    }
    if (expected) this.fail(`${code} returned, expected ${expected}`);
    return value;
  }

  async callAsync<T>(code: string, run: () => Promise<T>): Promise<T> {
    this.lines.push(`${code};`);
    this.tally.set(`${this.op} ok`, (this.tally.get(`${this.op} ok`) ?? 0) + 1);
    try {
      return await run();
    } catch (err) {
      return this.fail(`${code} threw ${outcome(err)}${err instanceof Error ? ` (${err.message})` : ''}`);
    }
  }

  async start(): Promise<void> {
    const options = emulatorOptions(this.config);
    this.lines.push(`let emu = await createEmulator(${JSON.stringify(options)});`, 'let extent = 0;');
    this.emu = await createEmulator(options);
  }

  // ---- checks after every command -------------------------------------------------------

  checkAfterStep(): void {
    try {
      this.emu.checkInvariants();
    } catch (err) {
      this.fail(`checkInvariants: ${outcome(err)} ${(err as Error).message}`);
    }
    const now = this.emu.now();
    const last = this.lastNow.get(this.cpu) ?? 0;
    if (!(now >= last) || !Number.isFinite(now)) this.fail(`the clock of CPU ${this.cpu} went from ${last} to ${now}`);
    this.lastNow.set(this.cpu, now);
    const stats = this.emu.stats();
    const walk = (o: unknown, path: string): void => {
      if (typeof o === 'number') {
        if (!Number.isFinite(o) || o < 0) this.fail(`counter ${path} is ${o}`);
      } else if (o && typeof o === 'object') for (const [k, v] of Object.entries(o)) walk(v, `${path}.${k}`);
    };
    walk(stats, 'stats');
  }

  /** The crash promise on `image`: every promised byte of every named file and of the device window. */
  checkImage(image: Emulator, what: string): void {
    try {
      image.checkInvariants();
    } catch (err) {
      this.fail(`${what}: checkInvariants on the image: ${(err as Error).message}`);
    }
    for (const path of PATHS) {
      const state = this.named.get(path);
      if (!state) {
        try {
          image.open(path);
        } catch (err) {
          if (err instanceof PmemError && err.code === 'ENOENT') continue;
          throw err;
        }
        this.fail(`${what}: the image has ${path}, which was unlinked`);
      }
      let f: DaxFile;
      try {
        f = image.open(path);
      } catch (err) {
        return this.fail(`${what}: the image lost ${path}: ${(err as Error).message}`);
      }
      const s = state.s;
      if (f.size !== s.size) this.fail(`${what}: ${path} is ${f.size} bytes in the image, ${s.size} here`);
      const got = f.pread(0, s.size);
      for (let i = 0; i < s.size; i++) {
        if (s.known[i] && got[i] !== s.data[i]) {
          this.fail(`${what}: ${path} byte ${i} is ${got[i]} in the image; ${s.data[i]} was promised (image.open('${path}').pread(${i}, 1))`);
        }
      }
    }
    if (this.dev) {
      const got = image.mmapDevice({ offset: this.dev.offset, length: 2 * MiB }).load(0, 2 * MiB);
      for (let i = 0; i < got.length; i++) {
        if (this.dev.known[i] && got[i] !== this.dev.data[i]) this.fail(`${what}: device byte ${this.dev.offset + i} is ${got[i]} in the image; ${this.dev.data[i]} was promised`);
      }
    }
  }

  /** A sync point: the crash promise on a guaranteed crash image made now. */
  async syncPoint(): Promise<void> {
    this.lines.push(`// sync point: the fuzzer checks await emu.crash({ mode: 'guaranteed' }) against what was promised`);
    this.tally.set('sync point', (this.tally.get('sync point') ?? 0) + 1);
    const image = await this.emu.crash({ mode: 'guaranteed' });
    this.checkImage(image, 'the guaranteed crash image at this sync point');
  }

  /** Continues on `image` (a crash image or an opened pool): its media is all durable, every handle is new. */
  adopt(image: Emulator, name: string): void {
    this.lines.push(`emu = ${name};`);
    const named = new Map<string, FileState>();
    this.files = [];
    for (const [path, old] of this.named) {
      const f = image.open(path);
      const s = new FileShadow(path, f.size);
      s.data.set(f.pread(0, f.size));
      // The tail of the last page past the end: pread cannot see it, the old shadow may know it.
      for (let i = f.size; i < s.pages * PAGE; i++) {
        if (old.s.known[i]) s.data[i] = old.s.data[i]!;
        else {
          s.fuzzy[i] = 1;
          s.known[i] = 0;
        }
      }
      const state = { f, s, name: `f${this.counter.f++}` };
      this.lines.push(`const ${state.name} = emu.open('${path}');`);
      this.files.push(state);
      named.set(path, state);
    }
    this.named = named;
    this.maps = [];
    this.devs = [];
    this.dev = null;
    this.emu = image;
    this.cpu = 0;
    this.lastNow.clear();
  }

  // ---- handles ------------------------------------------------------------------------------

  fileAt(i: number): FileState | undefined {
    return this.files.length ? this.files[i % this.files.length] : undefined;
  }

  mapAt(i: number): MapState | undefined {
    return this.maps.length ? this.maps[i % this.maps.length] : undefined;
  }

  /**
   * Where a command's offset lands in a mapping: modulo the part of it the file backs, plus
   * a page (so that some accesses run past the end of the file), within the mapping.
   */
  place(ms: MapState, at: number): number {
    const span = Math.min(ms.m.length, Math.max(PAGE, ms.file.s.size - ms.m.offset + PAGE));
    return at % span;
  }

  /** For a mapping access of [at, at + len): the mapping offset of the first page past the end of the file (or at + len). */
  accessEnd(ms: MapState, at: number, len: number): number {
    const pages = ms.file.s.pages;
    const pgoff = ms.m.offset / PAGE;
    for (let p = Math.floor(at / PAGE); p * PAGE < at + len; p++) if (pgoff + p >= pages) return Math.max(at, p * PAGE);
    return at + len;
  }

  /** Whether the file's tree may hold entries: its mappings and its file still answer. */
  fenceAll(): void {
    for (const st of this.files) {
      st.s.fenced(this.cpu);
      for (const line of st.s.pending.fence(this.cpu)) st.s.lineDurable(line);
    }
    if (this.dev) for (const line of this.dev.pending.fence(this.cpu)) this.dev.lineDurable(line);
  }

  /** A private mapping's copy of mapping page `vp` (made on the first write to it). */
  cowPage(ms: MapState, vp: number): { data: Uint8Array; fuzzy: Uint8Array } {
    let c = ms.cow.get(vp);
    if (!c) {
      const at = ms.m.offset + vp * PAGE;
      c = { data: ms.file.s.data.slice(at, at + PAGE), fuzzy: ms.file.s.fuzzy.slice(at, at + PAGE) };
      ms.cow.set(vp, c);
    }
    return c;
  }

  /** The bytes a load of [at, at + len) of a mapping should see, and which of them are unknown. */
  expectedLoad(ms: MapState, at: number, len: number): { data: Uint8Array; fuzzy: Uint8Array } {
    const data = new Uint8Array(len);
    const fuzzy = new Uint8Array(len);
    for (let i = 0; i < len; i++) {
      const x = at + i;
      const c = ms.shared ? undefined : ms.cow.get(Math.floor(x / PAGE));
      if (c) {
        data[i] = c.data[x % PAGE]!;
        fuzzy[i] = c.fuzzy[x % PAGE]!;
      } else {
        data[i] = ms.file.s.data[ms.m.offset + x]!;
        fuzzy[i] = ms.file.s.fuzzy[ms.m.offset + x]!;
      }
    }
    return { data, fuzzy };
  }

  compare(what: string, got: Uint8Array, want: { data: Uint8Array; fuzzy: Uint8Array }): void {
    if (got.length !== want.data.length) this.fail(`${what} gave ${got.length} bytes, expected ${want.data.length}`);
    for (let i = 0; i < got.length; i++) {
      if (!want.fuzzy[i] && got[i] !== want.data[i]) this.fail(`${what}: byte ${i} is ${got[i]}, expected ${want.data[i]}`);
    }
  }

  // ---- the commands ---------------------------------------------------------------------------

  async exec(c: Command): Promise<void> {
    const emu = this.emu;
    const kernel45 = this.config.kernel === 'linux-4.5';
    switch (c.op) {
      case 'create': {
        const path = PATHS[c.path]!;
        const size = Math.min(c.size, MAX_FILE);
        const name = `f${this.counter.f}`;
        const exists = this.named.has(path);
        const f = this.call(`${exists ? '' : `const ${name} = `}emu.createFile('${path}', { size: ${size}, allocate: '${c.allocate}' })`, exists ? 'EEXIST' : null, () =>
          emu.createFile(path, { size, allocate: c.allocate }),
        );
        if (!f) return;
        this.counter.f++;
        const state = { f, s: new FileShadow(path, size), name };
        this.files.push(state);
        this.named.set(path, state);
        return;
      }
      case 'unlink': {
        const path = PATHS[c.path]!;
        const state = this.named.get(path);
        this.call(`emu.unlink('${path}')`, state ? null : 'ENOENT', () => emu.unlink(path));
        if (!state) return;
        state.s.unlinked = true;
        this.named.delete(path);
        return;
      }
      case 'mmap': {
        const fs = this.fileAt(c.file);
        if (!fs) return;
        const expected = fs.s.unlinked ? 'EBADF' : c.sync && (!c.shared || kernel45) ? 'EOPNOTSUPP' : null;
        const options: { offset: number; length: number; shared: boolean; sync: boolean; address?: number } = { offset: c.page * PAGE, length: c.pages * PAGE, shared: c.shared, sync: c.sync };
        if (c.misalign) {
          options.address = this.nextAddress + PAGE;
          this.nextAddress += 8 * MiB;
        }
        const name = `m${this.counter.m}`;
        const m = this.call(`${expected ? '' : `const ${name} = `}emu.mmap(${fs.name}, ${JSON.stringify(options)})`, expected, () => emu.mmap(fs.f, options));
        if (!m) return;
        this.counter.m++;
        fs.s.mappings++;
        this.maps.push({ m, file: fs, name, shared: c.shared, sync: c.sync, mapped: true, cow: new Map() });
        return;
      }
      case 'munmap': {
        const ms = this.mapAt(c.map);
        if (!ms) return;
        this.call(`${ms.name}.munmap()`, ms.mapped ? null : 'EINVAL', () => ms.m.munmap());
        if (!ms.mapped) return;
        ms.mapped = false;
        ms.cow.clear();
        ms.file.s.mappings--;
        return;
      }
      case 'store':
      case 'ntstore': {
        const ms = this.mapAt(c.map);
        if (!ms) return;
        const at = this.place(ms, c.at);
        const bytes = pattern(c.fill, c.len);
        const code = `${ms.name}.${c.op}(${at}, bytes(${c.fill}, ${c.len}))`;
        if (!ms.mapped || at + c.len > ms.m.length) {
          this.call(code, ms.mapped ? 'EFAULT' : 'EINVAL', () => ms.m[c.op](at, bytes));
          return;
        }
        const end = this.accessEnd(ms, at, c.len);
        this.call(code, end < at + c.len ? 'SIGBUS' : null, () => ms.m[c.op](at, bytes));
        this.applyStore(ms, at, bytes.subarray(0, end - at), c.op === 'ntstore');
        return;
      }
      case 'load': {
        const ms = this.mapAt(c.map);
        if (!ms) return;
        const at = this.place(ms, c.at);
        const code = `${ms.name}.load(${at}, ${c.len})`;
        if (!ms.mapped || at + c.len > ms.m.length) {
          this.call(code, ms.mapped ? 'EFAULT' : 'EINVAL', () => ms.m.load(at, c.len));
          return;
        }
        const sigbus = this.accessEnd(ms, at, c.len) < at + c.len;
        const got = this.call(code, sigbus ? 'SIGBUS' : null, () => ms.m.load(at, c.len));
        if (got) this.compare(code, got, this.expectedLoad(ms, at, c.len));
        return;
      }
      case 'flush': {
        const ms = this.mapAt(c.map);
        if (!ms) return;
        const at = this.place(ms, c.at);
        const name = (['clflush', 'clflushopt', 'clwb'] as const)[c.kind];
        const code = `${ms.name}.${name}(${at}, ${c.len})`;
        if (!ms.mapped || at + c.len > ms.m.length) {
          this.call(code, ms.mapped ? 'EFAULT' : 'EINVAL', () => ms.m[name](at, c.len));
          return;
        }
        const sigbus = this.accessEnd(ms, at, c.len) < at + c.len;
        this.call(code, sigbus ? 'SIGBUS' : null, () => ms.m[name](at, c.len));
        if (sigbus || !ms.shared) return; // what a flush that faulted midway did is not promised
        for (const line of touchedLines(ms.m.offset + at, c.len)) {
          if (c.kind === 0) ms.file.s.lineDurable(line);
          else ms.file.s.pending.add(line, this.cpu);
        }
        return;
      }
      case 'fault': {
        const ms = this.mapAt(c.map);
        if (!ms) return;
        const at = this.place(ms, c.at);
        const kind = c.write ? 'write' : 'read';
        const code = `${ms.name}.fault(${at}, '${kind}')`;
        const expected = !ms.mapped ? 'EINVAL' : this.accessEnd(ms, at, 1) === at ? 'SIGBUS' : null;
        this.call(code, expected, () => ms.m.fault(at, kind));
        if (!expected && c.write && !ms.shared) this.cowPage(ms, Math.floor(at / PAGE));
        return;
      }
      case 'msync': {
        const ms = this.mapAt(c.map);
        if (!ms) return;
        const sync = !c.async;
        let at: number;
        let len: number;
        if (c.viaEmu) {
          at = Math.floor(this.place(ms, c.at) / PAGE) * PAGE;
          len = Math.min(c.len, ms.m.length - at);
          this.call(`emu.msync(${ms.name}.address + ${at}, ${len}, { sync: ${sync} })`, ms.mapped ? null : 'ENOMEM', () => emu.msync(ms.m.address + at, len, { sync }));
        } else {
          at = this.place(ms, c.at);
          len = c.len;
          const expected = !ms.mapped ? 'EINVAL' : at + len > ms.m.length ? 'EFAULT' : null;
          this.call(`${ms.name}.msync(${at}, ${len}, { sync: ${sync} })`, expected, () => ms.m.msync(at, len, { sync }));
          if (expected) return;
        }
        if (!ms.mapped || !ms.shared || !sync) return;
        const pgoff = ms.m.offset / PAGE;
        ms.file.s.synced(pgoff + Math.floor(at / PAGE), pgoff + Math.floor((at + len - 1) / PAGE), this.cpu);
        await this.syncPoint();
        return;
      }
      case 'fsync': {
        const fs = this.fileAt(c.file);
        if (!fs) return;
        const name = c.data ? 'fdatasync' : 'fsync';
        this.call(`${fs.name}.${name}()`, fs.s.live ? null : 'EBADF', () => fs.f[name]());
        if (!fs.s.live) return;
        fs.s.synced(0, Infinity, this.cpu);
        await this.syncPoint();
        return;
      }
      case 'sync': {
        this.call('emu.sync()', null, () => emu.sync());
        for (const st of this.named.values()) st.s.synced(0, Infinity, this.cpu);
        await this.syncPoint();
        return;
      }
      case 'pwrite': {
        const fs = this.fileAt(c.file);
        if (!fs) return;
        const bytes = pattern(c.fill, c.len);
        const n = this.call(`${fs.name}.pwrite(${c.at}, bytes(${c.fill}, ${c.len}))`, fs.s.live ? null : 'EBADF', () => fs.f.pwrite(c.at, bytes));
        if (!fs.s.live) return;
        if (n !== c.len) this.fail(`pwrite returned ${n}, expected ${c.len}`);
        fs.s.write(c.at, bytes, false);
        fs.s.size = Math.max(fs.s.size, c.at + c.len);
        return;
      }
      case 'pread': {
        const fs = this.fileAt(c.file);
        if (!fs) return;
        const code = `${fs.name}.pread(${c.at}, ${c.len})`;
        const got = this.call(code, fs.s.live ? null : 'EBADF', () => fs.f.pread(c.at, c.len));
        if (!got) return;
        const end = Math.max(c.at, Math.min(c.at + c.len, fs.s.size));
        this.compare(code, got, { data: fs.s.data.subarray(c.at, end), fuzzy: fs.s.fuzzy.subarray(c.at, end) });
        return;
      }
      case 'truncate': {
        const fs = this.fileAt(c.file);
        if (!fs) return;
        const size = Math.min(c.size, MAX_FILE);
        this.call(`${fs.name}.truncate(${size})`, fs.s.live ? null : 'EBADF', () => fs.f.truncate(size));
        if (!fs.s.live) return;
        const keep = Math.ceil(size / PAGE);
        if (keep < fs.s.pages) {
          // truncate_pagecache takes private copies past the new end too.
          for (const ms of this.maps) {
            if (ms.file !== fs) continue;
            for (const vp of [...ms.cow.keys()]) if (ms.m.offset / PAGE + vp >= keep) ms.cow.delete(vp);
          }
        }
        fs.s.truncate(size, !this.config.truncateWriteback);
        return;
      }
      case 'punch': {
        const fs = this.fileAt(c.file);
        if (!fs) return;
        this.call(`${fs.name}.punchHole(${c.at}, ${c.len})`, fs.s.live ? null : 'EBADF', () => fs.f.punchHole(c.at, c.len));
        if (!fs.s.live) return;
        this.applyPunch(fs, Math.ceil(c.at / PAGE), Math.floor((c.at + c.len) / PAGE));
        return;
      }
      case 'fence': {
        this.call(c.full ? 'emu.mfence()' : 'emu.sfence()', null, () => (c.full ? emu.mfence() : emu.sfence()));
        this.fenceAll();
        await this.syncPoint();
        return;
      }
      case 'cpu': {
        this.call(`emu.cpu = ${c.cpu}`, null, () => {
          emu.cpu = c.cpu;
        });
        this.cpu = c.cpu;
        return;
      }
      case 'reclaim': {
        const n = this.call(`emu.reclaim(${c.pages})`, null, () => emu.reclaim(c.pages))!;
        if (kernel45 ? n > c.pages : n !== 0) this.fail(`reclaim(${c.pages}) evicted ${n} pages`);
        return;
      }
      case 'dropCaches': {
        const n = this.call('emu.dropCaches()', null, () => emu.dropCaches())!;
        if (!kernel45 && n !== 0) this.fail(`dropCaches deleted ${n} DAX entries outside linux-4.5`);
        // linux-4.5 deletes dirty entries unwritten (bug B4): a known loss, not a failure.
        if (kernel45) for (const st of this.named.values()) st.s.loseDirty(0, Infinity);
        return;
      }
      case 'devMap': {
        let fresh = false;
        if (!this.dev) {
          const pfn = this.call('extent = emu.allocate(true)', null, () => emu.allocate(true))!;
          this.dev = new DeviceShadow(pfn * PAGE);
          this.lines.push(`// the device window is media [extent * 4096, + 2 MiB)`);
          fresh = true;
        }
        const name = `d${this.counter.d++}`;
        const offset = this.dev.offset;
        const d = this.call(`const ${name} = emu.mmapDevice({ offset: extent * 4096, length: ${2 * MiB} })`, null, () => emu.mmapDevice({ offset, length: 2 * MiB }))!;
        this.devs.push({ d, name, mapped: true });
        if (fresh) {
          // Free blocks keep what they held (a freed file block, or the device window before a reboot): nothing is promised of them.
          this.dev.data.set(this.call(`${name}.load(0, ${2 * MiB})`, null, () => d.load(0, 2 * MiB))!);
          this.dev.known.fill(0);
        }
        return;
      }
      case 'devUnmap': {
        const ds = this.devs.length ? this.devs[c.dev % this.devs.length]! : undefined;
        if (!ds) return;
        this.call(`${ds.name}.munmap()`, ds.mapped ? null : 'EINVAL', () => ds.d.munmap());
        ds.mapped = false;
        return;
      }
      case 'dev': {
        const ds = this.devs.length ? this.devs[c.dev % this.devs.length]! : undefined;
        if (!ds || !this.dev) return;
        const at = c.at % (2 * MiB);
        const bytes = pattern(c.fill, c.len);
        const data = c.kind === 'store' || c.kind === 'ntstore';
        const code = `${ds.name}.${c.kind}(${at}, ${data ? `bytes(${c.fill}, ${c.len})` : c.len})`;
        const expected = !ds.mapped ? 'EINVAL' : at + c.len > 2 * MiB ? 'EFAULT' : null;
        const d = ds.d;
        const got = this.call(code, expected, () => (c.kind === 'store' || c.kind === 'ntstore' ? d[c.kind](at, bytes) : d[c.kind](at, c.len)));
        if (expected) return;
        const dev = this.dev;
        if (c.kind === 'store') dev.write(at, bytes, this.config.persistence === 'eadr');
        else if (c.kind === 'ntstore') {
          dev.write(at, bytes, false);
          for (const line of wholeLines(at, c.len)) dev.pending.add(line, this.cpu);
        } else if (c.kind === 'load') this.compare(code, got as Uint8Array, { data: dev.data.subarray(at, at + c.len), fuzzy: new Uint8Array(c.len) });
        else if (c.kind === 'clflush') for (const line of touchedLines(at, c.len)) dev.lineDurable(line);
        else for (const line of touchedLines(at, c.len)) dev.pending.add(line, this.cpu);
        return;
      }
      case 'devRun': {
        if (!this.dev) return;
        const dev = this.dev;
        const bytes = pattern(c.fill, c.len);
        const addr = dev.offset + c.at;
        let code = `emu.run(emu.commands().store(extent * 4096 + ${c.at}, bytes(${c.fill}, ${c.len}))`;
        if (c.flush) code += `.clwb(extent * 4096 + ${c.at}, ${c.len})`;
        if (c.fence) code += '.sfence()';
        const r = this.call(`${code})`, null, () => {
          const b = emu.commands().store(addr, bytes);
          if (c.flush) b.clwb(addr, c.len);
          if (c.fence) b.sfence();
          return emu.run(b);
        })!;
        if (!(r.ns >= 0)) this.fail(`run took ${r.ns} ns`);
        dev.write(c.at, bytes, this.config.persistence === 'eadr');
        if (c.flush) for (const line of touchedLines(c.at, c.len)) dev.pending.add(line, this.cpu);
        if (c.fence) {
          this.fenceAll();
          await this.syncPoint();
        }
        return;
      }
      case 'concurrent':
        return this.concurrent(c.tasks, c.schedule);
      case 'crash': {
        const name = `image${this.counter.image++}`;
        const image = await this.callAsync(`const ${name} = await emu.crash({ mode: '${c.mode}', seed: ${c.seed} })`, () => emu.crash({ mode: c.mode, seed: c.seed }));
        this.checkImage(image, `the ${c.mode} crash image (seed ${c.seed})`);
        if (c.reboot) this.adopt(image, name);
        return;
      }
      case 'pool': {
        const name = `pool${this.counter.pool++}`;
        const path = join(this.poolDir, `${name}.pool`);
        await this.callAsync(`await emu.save('${name}.pool')`, () => emu.save(path));
        const opened = await this.callAsync(`const ${name} = await openEmulator('${name}.pool')`, () => openEmulator(path));
        if (!isDeepStrictEqual({ ...opened.options }, { ...emu.options })) this.fail('the opened pool has other options than the saved emulator');
        this.checkImage(opened, 'the opened pool');
        this.adopt(opened, name);
        return;
      }
    }
  }

  /** A store through a mapping, after the checks: the file's shadow or the private copies. */
  applyStore(ms: MapState, at: number, bytes: Uint8Array, nt: boolean): void {
    if (bytes.length === 0) return;
    if (ms.shared) {
      const fileAt = ms.m.offset + at;
      ms.file.s.write(fileAt, bytes, ms.sync, nt ? this.cpu : -1);
      if (nt) for (const line of wholeLines(fileAt, bytes.length)) ms.file.s.pending.add(line, this.cpu);
      return;
    }
    for (let i = 0; i < bytes.length; ) {
      const x = at + i;
      const n = Math.min(PAGE - (x % PAGE), bytes.length - i);
      const c = this.cowPage(ms, Math.floor(x / PAGE));
      c.data.set(bytes.subarray(i, i + n), x % PAGE);
      c.fuzzy.fill(0, x % PAGE, (x % PAGE) + n);
      i += n;
    }
  }

  /** A hole punched over file pages [first, end): the kernel's own loss on linux-4.5. */
  applyPunch(fs: FileState, first: number, end: number): void {
    if (end <= first) return;
    // linux-4.5 deletes the dirty entries of the hole unwritten, a PMD entry whole (ext4 before v4.9).
    if (this.config.kernel === 'linux-4.5') fs.s.loseDirty(Math.floor(first / 512) * 2 * MiB, Math.ceil(end / 512) * 2 * MiB);
    fs.s.release(first, end);
  }

  async concurrent(specs: TaskSpec[], schedule: number[]): Promise<void> {
    const tasks: string[] = [];
    const real: Parameters<Emulator['runConcurrently']>[0] = [];
    const punches: [FileState, number, number][] = [];
    const fsyncs: FileState[] = [];
    let store: { ms: MapState; at: number; bytes: Uint8Array } | undefined;
    for (const t of specs) {
      if ('hold' in t) {
        const fs = this.fileAt(t.hold);
        if (!fs || !fs.s.live || this.config.kernel === 'linux-4.5') continue;
        const entries = fs.f.entries();
        if (entries.length === 0) continue;
        const e = entries[t.entry % entries.length]!;
        const pages = 1 << e.order;
        // Two holders of one entry would punch it once or twice by turns: one each.
        if (punches.some(([f, a, b]) => f === fs && a < e.index + pages && e.index < b)) continue;
        if (t.then === 'punch') punches.push([fs, e.index, e.index + pages]);
        tasks.push(`{ holdEntry: { file: ${fs.name}, pgoff: ${e.index}, steps: ${t.steps}, then: '${t.then}' } }`);
        real.push({ holdEntry: { file: fs.f, pgoff: e.index, steps: t.steps, then: t.then } });
      } else if ('fsync' in t) {
        const fs = this.fileAt(t.fsync);
        if (!fs || !fs.s.live) continue;
        fsyncs.push(fs);
        tasks.push(`{ fsync: ${fs.name} }`);
        real.push({ fsync: fs.f });
      }
    }
    for (const t of specs) {
      if (!('store' in t) || store) continue;
      const ms = this.mapAt(t.store);
      if (!ms || !ms.mapped || !ms.shared) continue;
      const at = this.place(ms, t.at);
      if (at + t.len > ms.m.length || this.accessEnd(ms, at, t.len) < at + t.len) continue;
      const first = ms.m.offset / PAGE + Math.floor(at / PAGE);
      const last = ms.m.offset / PAGE + Math.floor((at + t.len - 1) / PAGE);
      // Whether the store lands before or after a punch of its pages is up to the schedule.
      if (punches.some(([f, a, b]) => f === ms.file && a <= last && first < b)) continue;
      store = { ms, at, bytes: pattern(t.fill, t.len) };
      tasks.push(`{ store: { mapping: ${ms.name}, offset: ${at}, bytes: bytes(${t.fill}, ${t.len}) } }`);
      real.push({ store: { mapping: ms.m, offset: at, bytes: store.bytes } });
    }
    if (real.length === 0) return;
    const order = schedule.filter((i) => i < real.length);
    this.call(`emu.runConcurrently([${tasks.join(', ')}], { schedule: ${JSON.stringify(order)} })`, null, () => this.emu.runConcurrently(real, { schedule: order }));
    for (const [fs, first, end] of punches) fs.s.release(first, end);
    for (const fs of fsyncs) fs.s.synced(0, Infinity, this.cpu);
    if (store) this.applyStore(store.ms, store.at, store.bytes, false);
    if (fsyncs.length > 0) await this.syncPoint();
  }
}

/**
 * Runs one sequence; throws a FuzzFailure (with its snippet) at the first check that fails.
 * Returns how many calls each command made, by outcome ('store ok', 'load SIGBUS', ...).
 */
export async function runSequence(config: FuzzConfig, commands: readonly Command[]): Promise<Map<string, number>> {
  const poolDir = await mkdtemp(join(tmpdir(), 'daxemu-fuzz-'));
  const run = new Run(config, poolDir);
  try {
    await run.start();
    for (const [i, c] of commands.entries()) {
      run.step = i;
      run.op = c.op;
      run.lines.push(`// step ${i}: ${c.op}`);
      await run.exec(c);
      run.checkAfterStep();
    }
    return run.tally;
  } finally {
    await rm(poolDir, { recursive: true, force: true });
  }
}
