// A DIMM's media calendar: up to when media work is booked in each 32 ns of emulated time.
// Several CPUs, each with its own clock, book work on one DIMM in whatever order the host
// runs them; the calendar lets a request from a CPU whose clock is behind use the idle time
// before work that another CPU booked for later, instead of queueing behind it. A request
// starts in its bucket after what is booked there (or at its arrival, if later), skips
// buckets booked to their end, and runs on until its work is done. Requests that arrive in
// time order get exactly what one queue would give them; idle time inside a bucket before
// its booked end is not reused.
//
// Within a DIMM's state (assembly/cost.ts has the rest), from CAL_OFFSET:
//     f64 held[CAL_BUCKETS]      which bucket (time / CAL_BUCKET_NS) each slot describes
//     f64 bookedTo[CAL_BUCKETS]  up to when it is booked
// The slots form a ring of CAL_BUCKETS x 32 ns = 32.8 us: a bucket older than the one its
// slot holds is taken as idle and not recorded (only a CPU that far behind the others asks).

export const CAL_OFFSET: u32 = 4 << 10;
const CAL_BUCKETS: u32 = 1024;
const CAL_BUCKET_NS: f64 = 32;
const CAL_BOOKED: u32 = CAL_OFFSET + (CAL_BUCKETS << 3);
/** The bytes a DIMM's state takes up to the calendar's end. */
export const CAL_END: u32 = CAL_BOOKED + (CAL_BUCKETS << 3);

/**
 * Books `work` ns of media time on DIMM `d`, starting no earlier than `at`; returns when the
 * work ends.
 */
export function mediaBook(d: usize, at: f64, work: f64): f64 {
  let bucket = Math.floor(at / CAL_BUCKET_NS);
  let from = at;
  let left = work;
  // Past one ring of buckets the calendar cannot hold more: the rest runs on unbooked (only
  // a custom model with an absurdly slow media gets here).
  for (let n: u32 = 0; n < CAL_BUCKETS; n++) {
    const slot = <usize>(bucket - Math.floor(bucket / <f64>CAL_BUCKETS) * <f64>CAL_BUCKETS);
    const heldAt = d + CAL_OFFSET + (slot << 3);
    const bookedAt = d + CAL_BOOKED + (slot << 3);
    const held = load<f64>(heldAt);
    const start = bucket * CAL_BUCKET_NS;
    const end = start + CAL_BUCKET_NS;
    let begin = from;
    if (held == bucket) begin = max(from, load<f64>(bookedAt));
    else if (held < bucket) store<f64>(heldAt, bucket); // a stale slot: this bucket is empty
    if (begin < end) {
      const take = min(end - begin, left);
      if (held <= bucket) store<f64>(bookedAt, begin + take);
      left -= take;
      if (left <= 0) return begin + take;
    }
    bucket += 1;
    from = end;
  }
  return from + left;
}
