/**
 * Steps something until a condition holds, a bounded number of times: an executor bug that
 * never gets there (a JIT that loops where the interpreter stops) fails the test with a message
 * instead of hanging the test worker, which a synchronous loop would do past any timeout.
 */
export function stepUntil(done: () => boolean, step: () => void, what: string, times = 100_000): void {
  for (let i = 0; i < times; i++) {
    if (done()) return;
    step();
  }
  if (!done()) throw new Error(`${what}: not reached after ${times} steps of the test's loop`);
}
