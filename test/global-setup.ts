/**
 * Vitest global setup: builds dist/ once before any test file runs (scripts/build.mjs, about a
 * second), then sets FUNIT_DIST_BUILT=1, which the test workers inherit, so that the builds test
 * files start in their beforeAll (they must also work when run on their own) return at once
 * instead of rebuilding dist/ under each other's feet. `npm test` builds before vitest and sets
 * the variable itself, so the build then runs exactly once.
 */
import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export default function setup(): void {
  if (process.env.FUNIT_DIST_BUILT === "1") return;
  const root = join(dirname(fileURLToPath(import.meta.url)), "..");
  execFileSync(process.execPath, [join(root, "scripts/build.mjs")], { cwd: root, stdio: "pipe" });
  process.env.FUNIT_DIST_BUILT = "1";
}
