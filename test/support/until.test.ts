// The wait helper's timeout message: it must tell a last attempt that failed from one that answered
// "not yet" after an earlier failure (a stale error once read as a gateway refusing connections).
import { expect, test } from "vitest";
import { until, untilTrue } from "./until.ts";

test("an error from an early attempt is named as earlier, not as the last attempt's", async () => {
  let calls = 0;
  const cond = async () => {
    calls++;
    if (calls === 1) throw new TypeError("fetch failed", { cause: new Error("connect ECONNREFUSED 127.0.0.1:9") });
    return false;
  };
  const e = await untilTrue("the thing", cond, 50, 5).catch((x: Error) => x);
  expect((e as Error).message).toMatch(/^the thing: not within 50 ms \(last attempt answered "not yet"; 1 of \d+ attempts failed, the last with: fetch failed: connect ECONNREFUSED 127\.0\.0\.1:9\)$/);
});

test("a last attempt that failed is named as such", async () => {
  const e = await until("the other thing", async () => Promise.reject(new Error("boom")), 30, 5).catch((x: Error) => x);
  expect((e as Error).message).toBe("the other thing: not within 30 ms (last attempt failed: boom)");
});

test("no error at all: only that the last attempt answered not yet", async () => {
  const e = await untilTrue("never", () => false, 20, 5).catch((x: Error) => x);
  expect((e as Error).message).toBe('never: not within 20 ms (last attempt answered "not yet")');
});

test("a value ends the wait", async () => {
  let n = 0;
  await expect(until("three", async () => (++n === 3 ? n : undefined), 1000, 1)).resolves.toBe(3);
});
