/**
 * What a portable test is and how one runs: a name and a body that needs only a GPUDevice and a
 * fixture loader (`load(path)` → the bytes of a repo-relative file: fs in Node, fetch in a page,
 * Deno.readFile in Deno). Each body runs inside validation, out-of-memory and internal error
 * scopes, with an uncaptured-error listener, and fails on any error the device reports: Deno, for
 * one, drops validation errors silently otherwise, so a rejected kernel could look like a pass.
 */
export interface TestContext {
  device: GPUDevice;
  load(path: string): Promise<Uint8Array>;
}

export interface PortableTest {
  name: string;
  run(ctx: TestContext): Promise<void>;
}

export interface TestResult {
  name: string;
  ok: boolean;
  message: string;
  ms: number;
}

/** Runs `body` inside error scopes; throws if it fails or if the device reported any error meanwhile. */
export async function withErrorScopes<T>(device: GPUDevice, body: () => Promise<T>): Promise<T> {
  const uncaptured: string[] = [];
  const onError = (ev: Event) => uncaptured.push((ev as GPUUncapturedErrorEvent).error.message);
  device.addEventListener("uncapturederror", onError);
  device.pushErrorScope("validation");
  device.pushErrorScope("out-of-memory");
  device.pushErrorScope("internal");
  let result: T | undefined,
    failure: unknown,
    failed = false;
  try {
    result = await body();
  } catch (e) {
    failure = e;
    failed = true;
  }
  // popped innermost first: internal, out-of-memory, validation
  const scoped = (
    await Promise.all([device.popErrorScope(), device.popErrorScope(), device.popErrorScope()])
  ).filter((e) => e);
  device.removeEventListener("uncapturederror", onError);
  const gpuErrors = [
    ...scoped.map((e) => e!.message),
    ...uncaptured.map((m) => `uncaptured: ${m}`),
  ];
  if (gpuErrors.length) {
    const also = failed
      ? ` (and the test failed: ${failure instanceof Error ? failure.message : String(failure)})`
      : "";
    throw new Error(`WebGPU errors: ${gpuErrors.join(" | ")}${also}`);
  }
  if (failed) throw failure;
  return result as T;
}

export function runPortableTest(test: PortableTest, ctx: TestContext): Promise<void> {
  return withErrorScopes(ctx.device, () => test.run(ctx));
}

/** Runs tests one after another (they share one device), never stopping at a failure. */
export async function runAll(
  tests: PortableTest[],
  ctx: TestContext,
  onResult?: (r: TestResult) => void,
): Promise<TestResult[]> {
  const results: TestResult[] = [];
  for (const test of tests) {
    const start = performance.now();
    let ok = true,
      message = "";
    try {
      await runPortableTest(test, ctx);
    } catch (e) {
      ok = false;
      message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    }
    const result = { name: test.name, ok, message, ms: Math.round(performance.now() - start) };
    results.push(result);
    onResult?.(result);
  }
  return results;
}

/** Names that appear more than once; a runtime suite must give each test a distinct name. */
export function duplicateNames(tests: { name: string }[]): string[] {
  const seen = new Set<string>(),
    dup = new Set<string>();
  for (const t of tests) (seen.has(t.name) ? dup : seen).add(t.name);
  return [...dup];
}
