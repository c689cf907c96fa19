/**
 * The channel between an emulator's own thread (its owner) and the worker threads attached
 * to it: one SharedArrayBuffer of control words, then one mailbox per CPU. A worker posts a
 * request in its CPU's mailbox and sleeps on it (Atomics.wait); the owner, woken through the
 * doorbell (Atomics.waitAsync), runs the call and posts the reply.
 *
 * Control words (Int32, by index), each group on its own 64-byte cache line, so that a
 * worker's writes to its own words do not bounce the line the others read:
 *   0  epoch     page-table changes announced so far: a worker that sees it move drops the
 *                translations it cached (the TLB shootdown, src/emulator/share-server.ts)
 *  16  doorbell  requests posted so far; the owner waits on it
 *  17  claims    a bit per CPU that a worker has attached
 *  18  serving   1 while the owner answers
 *  32 + 16 * cpu  active: 1 while that CPU's worker is inside an access through a cached translation
 * 176 + cpu      mailbox state: IDLE, REQUEST or REPLY
 * From RING_OFFSET, the shootdown ring: for each of the last SHOOTDOWN_RING epochs, the
 * virtual pages it changed (f64 first page, f64 pages), so that a worker drops only those
 * translations (flush_tlb_range), or all of them when it fell further behind.
 * A mailbox (MAILBOX_BYTES from MAILBOX_OFFSET + cpu * MAILBOX_BYTES): u32 JSON bytes, u32
 * binary bytes, the JSON, the binary (the bytes a store or a read carries).
 */
import { PmemError, type PmemErrorCode } from '../base/index.js';

export const W_EPOCH = 0;
export const W_DOORBELL = 16;
export const W_CLAIMS = 17;
export const W_SERVING = 18;
const W_ACTIVE = 32;
export const W_STATE = 176;
export const IDLE = 0;
export const REQUEST = 1;
export const REPLY = 2;
/** CPUs a channel has mailboxes for: the core's MAX_CPUS, which the owner checks. */
export const CHANNEL_CPUS = 8;
const MAILBOX_OFFSET = 4096;
const RING_OFFSET = 1024;
export const SHOOTDOWN_RING = 64;
/** A mailbox's room; longer data goes in pieces of FORWARD_PIECE bytes. */
export const MAILBOX_BYTES = 1 << 20;
export const FORWARD_PIECE = 512 << 10;
/** Bumped whenever a request or reply changes shape: a worker from another build is refused. */
export const SHARE_PROTOCOL = 1;

export interface Message {
  value: unknown;
  bin?: Uint8Array;
}

export function newChannel(): SharedArrayBuffer {
  return new SharedArrayBuffer(MAILBOX_OFFSET + CHANNEL_CPUS * MAILBOX_BYTES);
}

/** The index of CPU `cpu`'s active word. */
export function activeWord(cpu: number): number {
  return W_ACTIVE + 16 * cpu;
}

/** The control words of a channel. */
export function channelWords(channel: SharedArrayBuffer): Int32Array {
  return new Int32Array(channel, 0, RING_OFFSET / 4);
}

/** The shootdown ring of a channel: [first page, pages] per epoch modulo SHOOTDOWN_RING. */
export function shootdownRing(channel: SharedArrayBuffer): Float64Array {
  return new Float64Array(channel, RING_OFFSET, SHOOTDOWN_RING * 2);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function writeMessage(channel: SharedArrayBuffer, cpu: number, message: Message): void {
  const json = encoder.encode(JSON.stringify(message.value ?? null));
  const bin = message.bin ?? new Uint8Array(0);
  if (8 + json.length + bin.length > MAILBOX_BYTES) {
    throw new PmemError('EINVAL', `a call between threads carries at most ${MAILBOX_BYTES - 8} bytes, this one ${8 + json.length + bin.length}`);
  }
  const at = MAILBOX_OFFSET + cpu * MAILBOX_BYTES;
  const head = new Uint32Array(channel, at, 2);
  head[0] = json.length;
  head[1] = bin.length;
  const bytes = new Uint8Array(channel, at + 8);
  bytes.set(json);
  bytes.set(bin, json.length);
}

function readMessage(channel: SharedArrayBuffer, cpu: number): Message {
  const at = MAILBOX_OFFSET + cpu * MAILBOX_BYTES;
  const [jsonBytes, binBytes] = new Uint32Array(channel, at, 2);
  // Copied out first: TextDecoder refuses views of shared memory in some browsers.
  const json = new Uint8Array(channel, at + 8, jsonBytes).slice();
  const bin = binBytes > 0 ? new Uint8Array(channel, at + 8 + jsonBytes!, binBytes).slice() : undefined;
  return { value: JSON.parse(decoder.decode(json)), bin };
}

/** What a reply carries: a value, or the error the call threw. */
type Reply = { ok: true; value: unknown } | { ok: false; code: PmemErrorCode; message: string };

/**
 * Posts `op(args)` in `cpu`'s mailbox and sleeps until the owner answers; returns the reply,
 * or throws the error the owner's call threw. Workers only: a browser's main thread may not sleep.
 */
export function callOwner(channel: SharedArrayBuffer, cpu: number, op: string, args: unknown[], bin?: Uint8Array): Message {
  const words = channelWords(channel);
  if (Atomics.load(words, W_SERVING) !== 1) throw new PmemError('EINVAL', `${op}: the emulator's thread does not answer (emu.share() was stopped)`);
  writeMessage(channel, cpu, { value: { op, args }, bin });
  Atomics.store(words, W_STATE + cpu, REQUEST);
  Atomics.add(words, W_DOORBELL, 1);
  Atomics.notify(words, W_DOORBELL);
  while (Atomics.load(words, W_STATE + cpu) !== REPLY) {
    if (Atomics.load(words, W_SERVING) !== 1) {
      Atomics.store(words, W_STATE + cpu, IDLE);
      throw new PmemError('EINVAL', `${op}: the emulator's thread stopped answering before it replied`);
    }
    Atomics.wait(words, W_STATE + cpu, REQUEST, 1000);
  }
  const message = readMessage(channel, cpu);
  Atomics.store(words, W_STATE + cpu, IDLE);
  const reply = message.value as Reply;
  if (!reply.ok) throw new PmemError(reply.code, reply.message.startsWith(`${reply.code}: `) ? reply.message.slice(reply.code.length + 2) : reply.message);
  return { value: reply.value, bin: message.bin };
}

/** Runs one request, on the owner. */
export type RequestHandler = (cpu: number, op: string, args: unknown[], bin: Uint8Array | undefined) => Message;

/**
 * The owner's side: answers every posted request while its event loop runs (between the
 * owner's own calls: a synchronous loop on the owner keeps the workers' requests waiting).
 */
export class ChannelServer {
  readonly channel: SharedArrayBuffer;
  private readonly words: Int32Array;
  private running = false;

  constructor(channel: SharedArrayBuffer, private readonly handle: RequestHandler) {
    this.channel = channel;
    this.words = channelWords(channel);
  }

  get serving(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    Atomics.store(this.words, W_SERVING, 1);
    void this.loop();
  }

  /** Stops answering; a worker waiting for a reply then gets EINVAL. */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    Atomics.store(this.words, W_SERVING, 0);
    Atomics.add(this.words, W_DOORBELL, 1);
    Atomics.notify(this.words, W_DOORBELL);
    for (let cpu = 0; cpu < CHANNEL_CPUS; cpu++) Atomics.notify(this.words, W_STATE + cpu);
  }

  private async loop(): Promise<void> {
    const waitAsync = (Atomics as unknown as { waitAsync?: (a: Int32Array, i: number, v: number) => { async: boolean; value: Promise<string> | string } }).waitAsync;
    while (this.running) {
      const seen = Atomics.load(this.words, W_DOORBELL);
      this.answerAll();
      if (waitAsync) {
        const wait = waitAsync(this.words, W_DOORBELL, seen);
        if (wait.async) await wait.value;
      } else {
        await new Promise((resolve) => setTimeout(resolve, 0)); // no waitAsync (older browsers): poll
      }
    }
  }

  /** Answers every mailbox with a request in it. */
  answerAll(): void {
    for (let cpu = 0; cpu < CHANNEL_CPUS; cpu++) {
      if (Atomics.load(this.words, W_STATE + cpu) === REQUEST) this.answer(cpu);
    }
  }

  private answer(cpu: number): void {
    const request = readMessage(this.channel, cpu);
    const { op, args } = request.value as { op: string; args: unknown[] };
    let reply: Message;
    try {
      const result = this.handle(cpu, op, args, request.bin);
      reply = { value: { ok: true, value: result.value ?? null }, bin: result.bin };
    } catch (err) {
      const code: PmemErrorCode = err instanceof PmemError ? err.code : 'EFAULT';
      const message = err instanceof PmemError ? err.message : `${op}: the emulator's thread failed (a bug: please report it): ${String(err)}`;
      reply = { value: { ok: false, code, message } };
    }
    try {
      writeMessage(this.channel, cpu, reply);
    } catch (err) {
      writeMessage(this.channel, cpu, { value: { ok: false, code: 'EINVAL', message: `${op}: ${(err as Error).message}` } });
    }
    Atomics.store(this.words, W_STATE + cpu, REPLY);
    Atomics.notify(this.words, W_STATE + cpu);
  }
}
