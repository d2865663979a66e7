#!/usr/bin/env bash
# One-time set-up on a fresh Debian 12 machine, GPU or not: the system packages WebGPU needs
# (Mesa 25's lavapipe CPU Vulkan driver from bookworm-backports, and Debian's chromium for the browser
# tests, via .ci/install-system), then the
# npm dependencies exactly as locked; `npm run demo` and `npm test` build dist/ themselves. Node 20 or newer must be
# installed already (Debian 12's own nodejs package is 18, too old).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' 2>/dev/null; then
  echo "setup: Node.js 20 or newer is required (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi
bash .ci/install-system
npm ci
