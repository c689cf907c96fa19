/**
 * The explorer's controls: for each call, its fields (name, label, default) and how it
 * turns them into one emulator call through the session. Each field is read and checked
 * (fields.ts) before the emulator is called. The page builds its forms from this table;
 * the tests run the same table without a page.
 */
import { CRASH_MODES, KERNEL_PROFILES, PRESET_NAMES, type CrashMode, type KernelProfile, type PresetName } from 'daxemu';
import { FieldError, parseBytes, parseChoice, parseCount, parseOptionalCount, parsePath } from './fields.js';
import type { Session } from './session.js';

export interface Field {
  name: string;
  label: string;
  value: string;
  /** A drop-down of these choices, or a checkbox ('on' / ''), or else a text box. */
  choices?: readonly string[];
  checkbox?: boolean;
}

export interface Control {
  id: string;
  label: string;
  fields: Field[];
  run(session: Session, values: Record<string, string>): unknown;
}

const MAX_U32 = 0xffffffff;
const MAX_ADDRESS = 2 ** 47 - 1;

/** The mapping a control names, or the one the views show. */
function mappingId(session: Session, text: string): number {
  if (text.trim() !== '') return parseCount('mapping', text.replace(/^#/, ''), 0, MAX_U32);
  if (session.selectedMapping === undefined) throw new FieldError('mapping', 'no mapping yet: mmap a file first');
  return session.selectedMapping;
}

/** The file a control names, or the one the views show. */
function filePath(session: Session, text: string): string {
  if (text.trim() !== '') return parsePath('file', text.trim());
  if (session.selectedPath === undefined) throw new FieldError('file', 'no file yet: create one first');
  return session.selectedPath;
}

/** The fields of a call on a range of a mapping: which mapping, the offset, the length. */
function mappingRange(length: string): Field[] {
  return [
    { name: 'mapping', label: 'mapping #', value: '' },
    { name: 'offset', label: 'offset', value: '0' },
    { name: 'length', label: 'length', value: length },
  ];
}

/** The mapping, offset and length those fields name; `maxLength` bounds the length. */
function readRange(s: Session, v: Record<string, string>, minLength: number, maxLength = 2 ** 40): [number, number, number] {
  return [mappingId(s, v.mapping!), parseCount('offset', v.offset!, 0, 2 ** 40), parseCount('length', v.length!, minLength, maxLength)];
}

const FLUSHES = ['clwb', 'clflushopt', 'clflush'] as const;

export const CONTROLS: Control[] = [
  {
    id: 'session',
    label: 'new session',
    fields: [
      { name: 'capacity', label: 'capacity', value: '64M' },
      { name: 'kernel', label: 'kernel', value: 'linux-6.12', choices: KERNEL_PROFILES },
      { name: 'preset', label: 'preset', value: 'optane-g1', choices: PRESET_NAMES },
      { name: 'seed', label: 'seed', value: '1' },
    ],
    run: (s, v) => s.reset({
      capacity: parseCount('capacity', v.capacity!, 2 << 20, 1 << 30),
      kernel: parseChoice<KernelProfile>('kernel', v.kernel!, KERNEL_PROFILES),
      preset: parseChoice<PresetName>('preset', v.preset!, PRESET_NAMES),
      seed: parseCount('seed', v.seed!, 0, MAX_U32),
    }),
  },
  {
    id: 'create',
    label: 'create file',
    fields: [
      { name: 'path', label: 'path', value: '/data' },
      { name: 'size', label: 'size', value: '4M' },
      { name: 'allocate', label: 'allocation', value: 'none', choices: ['none', 'unwritten', 'written'] },
    ],
    run: (s, v) => s.createFile(parsePath('path', v.path!.trim()), parseCount('size', v.size!, 0, 2 ** 40), parseChoice('allocation', v.allocate!, ['none', 'unwritten', 'written'] as const)),
  },
  {
    id: 'mmap',
    label: 'mmap',
    fields: [
      { name: 'file', label: 'file', value: '' },
      { name: 'offset', label: 'offset', value: '0' },
      { name: 'length', label: 'length', value: '' },
      { name: 'address', label: 'address', value: '' },
      { name: 'sync', label: 'MAP_SYNC', value: '', checkbox: true },
      { name: 'shared', label: 'MAP_SHARED', value: 'on', checkbox: true },
    ],
    run: (s, v) => {
      const path = filePath(s, v.file!);
      const options = {
        offset: parseCount('offset', v.offset!, 0, 2 ** 40),
        length: parseOptionalCount('length', v.length!, 1, 2 ** 40),
        address: parseOptionalCount('address', v.address!, 0, MAX_ADDRESS),
        sync: v.sync === 'on',
        shared: v.shared === 'on',
      };
      s.mmap(path, options);
    },
  },
  {
    id: 'store',
    label: 'store',
    fields: [
      { name: 'mapping', label: 'mapping #', value: '' },
      { name: 'offset', label: 'offset', value: '0' },
      { name: 'bytes', label: 'bytes (hex)', value: 'de ad be ef' },
    ],
    run: (s, v) => s.store(mappingId(s, v.mapping!), parseCount('offset', v.offset!, 0, 2 ** 40), parseBytes('bytes', v.bytes!)),
  },
  {
    id: 'load',
    label: 'load',
    fields: mappingRange('8'),
    run: (s, v) => s.load(...readRange(s, v, 1, 4096)),
  },
  {
    id: 'msync',
    label: 'msync',
    fields: [...mappingRange('4M'), { name: 'sync', label: 'MS_SYNC', value: 'on', checkbox: true }],
    run: (s, v) => s.msync(...readRange(s, v, 0), v.sync === 'on'),
  },
  {
    id: 'flush',
    label: 'flush',
    fields: [...mappingRange('64'), { name: 'instruction', label: 'instruction', value: 'clwb', choices: FLUSHES }],
    run: (s, v) => s.flush(...readRange(s, v, 0), parseChoice('instruction', v.instruction!, FLUSHES)),
  },
  { id: 'sfence', label: 'sfence', fields: [], run: (s) => s.sfence() },
  {
    id: 'truncate',
    label: 'truncate',
    fields: [
      { name: 'file', label: 'file', value: '' },
      { name: 'size', label: 'size', value: '0' },
    ],
    run: (s, v) => s.truncate(filePath(s, v.file!), parseCount('size', v.size!, 0, 2 ** 40)),
  },
  {
    id: 'punch',
    label: 'punch hole',
    fields: [
      { name: 'file', label: 'file', value: '' },
      { name: 'offset', label: 'offset', value: '0' },
      { name: 'length', label: 'length', value: '4K' },
    ],
    run: (s, v) => s.punch(filePath(s, v.file!), parseCount('offset', v.offset!, 0, 2 ** 40), parseCount('length', v.length!, 0, 2 ** 40)),
  },
  {
    id: 'reclaim',
    label: 'reclaim',
    fields: [{ name: 'pages', label: 'pages', value: '512' }],
    run: (s, v) => s.reclaim(parseCount('pages', v.pages!, 0, MAX_U32)),
  },
  {
    id: 'crash',
    label: 'crash',
    fields: [
      { name: 'mode', label: 'mode', value: 'guaranteed', choices: CRASH_MODES },
      { name: 'seed', label: 'seed', value: '1' },
    ],
    run: (s, v) => s.crash(parseChoice<CrashMode>('mode', v.mode!, CRASH_MODES), parseCount('seed', v.seed!, 0, MAX_U32)),
  },
];

/** Runs the control `id` with `values` (its defaults where a value is missing) through the session. */
export function runControl(session: Session, id: string, values: Record<string, string> = {}) {
  const control = CONTROLS.find((c) => c.id === id);
  if (!control) throw new Error(`no control ${id}`);
  const all = Object.fromEntries(control.fields.map((f) => [f.name, values[f.name] ?? f.value]));
  return session.run(control.label, () => control.run(session, all));
}
