/**
 * A tiny assertion helper for the portable tests, which run under vitest in Node, in a Chromium
 * page and under Deno, so they cannot use vitest's `expect`. Each check throws an AssertionError
 * whose message says what was compared, the worst error, the tolerance and where it occurred, so a
 * failure reported from a browser or a Deno subprocess is as useful as one from vitest.
 */
export class AssertionError extends Error {
  override name = "AssertionError";
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

/** Structural equality of plain data (arrays, numbers, strings), compared through JSON. */
export function assertEqual(got: unknown, want: unknown, what: string): void {
  const g = JSON.stringify(got),
    w = JSON.stringify(want);
  if (g !== w) throw new AssertionError(`${what}: got ${g}, want ${w}`);
}

/**
 * Fails unless every element is within `tol` of the reference. `metric` "abs" is |got − want|;
 * "rel" is |got − want| / (1 + |want|) (absolute near zero, relative for large values). A NaN on
 * either side fails, as does a length mismatch.
 */
export function assertClose(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  tol: number,
  what: string,
  metric: "abs" | "rel" = "abs",
): void {
  if (got.length !== want.length)
    throw new AssertionError(`${what}: ${got.length} values, want ${want.length}`);
  let worst = 0,
    at = -1;
  for (let i = 0; i < got.length; i++) {
    const d = Math.abs(got[i]! - want[i]!) / (metric === "rel" ? 1 + Math.abs(want[i]!) : 1);
    if (Number.isNaN(d))
      throw new AssertionError(`${what}: NaN at index ${i} (got ${got[i]}, want ${want[i]})`);
    if (d > worst) {
      worst = d;
      at = i;
    }
  }
  if (worst > tol) {
    throw new AssertionError(
      `${what}: max ${metric} error ${worst.toExponential(3)} > tolerance ${tol} at index ${at} of ${got.length} (got ${got[at]}, want ${want[at]})`,
    );
  }
}

/** Fails unless `promise` rejects with a message matching `pattern`. */
export async function assertRejects(
  promise: Promise<unknown>,
  pattern: RegExp,
  what: string,
): Promise<void> {
  let error: unknown;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  if (error === undefined)
    throw new AssertionError(`${what}: expected a rejection matching ${pattern}, but it resolved`);
  const message = error instanceof Error ? error.message : String(error);
  if (!pattern.test(message))
    throw new AssertionError(
      `${what}: rejected with "${message}", which does not match ${pattern}`,
    );
}
