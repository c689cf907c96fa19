// Spin locks for host threads that share the memory (worker threads on one emulator).
//
// A lock is one u32 word: 0 when free, else the holding thread's id + 1 (its owner word).
// A thread id is the scratch area the thread's instance uses (src/core/layout.ts: the
// creating thread is 0, a worker attached as CPU c is c), set once per instance by
// lockSetThread. Waiters spin: a browser's main thread may not block on memory.atomic.wait,
// and every critical section here is a few hundred nanoseconds of work at most.
//
// A thread that dies holding a lock (a worker terminated in the middle of a call) would hang
// every later taker. So a waiter checks, every few thousand spins, whether the holder was
// declared dead (H_DEAD_THREADS, set by the host when it learns the worker is gone) or has
// held the lock for absurdly long; it then clears the lock and fails its own call with
// -EDEADLK, naming the holder in lockDeadHolder. The state the dead thread was changing may
// be half-changed: the host's checkInvariants says whether it is.
//
// One hold may last long on purpose: a crash image reads the media and the undo slots in
// many host calls, and must see them as at one instant (lockTakeLong). The holder's id in
// H_LONG_HOLDER tells waiters that it is alive and busy, so they spin on without timing out.

import { EDEADLK } from './errno';
import { H_DEAD_THREADS, H_LONG_HOLDER, hdr } from './layout';

/** This instance's thread id (a wasm global: each thread's instance has its own). */
let threadId: u32 = 0;

/** The holder + 1 of the last lock found dead (0: none yet), for the host's message. */
export let lockDeadHolder: u32 = 0;

const CHECK_EVERY: u32 = 1 << 12;
/** About a second of spinning: far beyond any critical section. */
const SPIN_LIMIT: u32 = 1 << 28;

/** Sets the id this thread's lock words carry (0 to MAX_CPUS - 1). */
export function lockSetThread(id: u32): void {
  threadId = id;
}

/** Declares thread `id` dead (or alive again, `dead` false): locks it holds are taken from it. */
export function lockMarkDead(id: u32, dead: bool): void {
  const bit: u32 = 1 << id;
  if (dead) atomic.or<u32>(hdr(H_DEAD_THREADS), bit);
  else atomic.and<u32>(hdr(H_DEAD_THREADS), ~bit);
}

/** Takes the lock at `at`: 0, or -EDEADLK when its holder is dead (the lock is then cleared, not taken). */
export function lockTake(at: usize): i32 {
  const me = threadId + 1;
  if (atomic.cmpxchg<u32>(at, 0, me) == 0) return 0;
  let spins: u32 = 0;
  while (true) {
    const holder = atomic.load<u32>(at);
    if (holder == 0) {
      if (atomic.cmpxchg<u32>(at, 0, me) == 0) return 0;
      continue;
    }
    // The same thread again: a call nested inside another would spin for ever.
    if (holder == me) {
      lockDeadHolder = holder;
      return -EDEADLK;
    }
    spins++;
    if (spins % CHECK_EVERY != 0) continue;
    const dead = (atomic.load<u32>(hdr(H_DEAD_THREADS)) & (<u32>1 << (holder - 1))) != 0;
    if (dead || (spins >= SPIN_LIMIT && atomic.load<u32>(hdr(H_LONG_HOLDER)) != holder)) {
      atomic.cmpxchg<u32>(at, holder, 0);
      lockDeadHolder = holder;
      return -EDEADLK;
    }
  }
  return 0; // unreachable
}

/** Releases a lock this thread holds. */
@inline export function lockGive(at: usize): void {
  atomic.store<u32>(at, 0);
}

/** Takes the lock at `at` for a hold over several host calls, which waiters never time out on. */
export function lockTakeLong(at: usize): i32 {
  const rc = lockTake(at);
  if (rc == 0) atomic.store<u32>(hdr(H_LONG_HOLDER), threadId + 1);
  return rc;
}

/** Ends a hold lockTakeLong began. */
export function lockGiveLong(at: usize): void {
  atomic.store<u32>(hdr(H_LONG_HOLDER), 0);
  lockGive(at);
}
