// The threads suite's worker entry: registers tsx in this thread (a worker does not inherit the
// loader hooks of its parent's --import), then runs the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./threads-worker.ts');
