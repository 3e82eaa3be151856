// The typed error code `fn` throws (one of `type`'s), or undefined when it returns: for tests that
// check which refusal a verifier gives. Any other exception fails the test.
export function errorCode(type: abstract new (...args: never[]) => Error & { code: string }, fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (!(e instanceof type)) throw e;
    return e.code;
  }
}
