/**
 * Runs a hook with a time bound. Resolves true when it completed, false when it threw or ran out of time:
 * one hook that hangs or throws must never hold the whole shutdown, and never crash it.
 */
export async function runBounded(fn: () => unknown, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, timeoutMs));
    timer.unref();
  });
  try {
    const work = Promise.resolve()
      .then(fn)
      .then(
        () => true,
        () => false,
      );
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
