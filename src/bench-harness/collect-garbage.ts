/**
 * A full garbage collection on demand, for benchmarks: between measurements, so that what one left behind (a
 * stopped server's thousands of calls) is not collected inside the next one's timing, and before reading memory.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
export const collectGarbage = runInNewContext('gc') as () => void;
