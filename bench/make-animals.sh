#!/bin/bash
# Makes the bench's full-size case (NVlabs animals config, nf = 64, 128×128) in bench/models/animals128/
# (git-ignored, ~250 MB): the bench writes its deterministic random weights and inputs
# (bench/models/animals.ts), then Debian's python3-torch exports the same weights to ONNX for the
# onnxruntime-web peer and computes the reference outputs the bench checks (K=1 N=1, K=5 N=16).
#   bash bench/make-animals.sh [TOOLS]    TOOLS: folder with funit_torch.py and safetensors_lite.py
#                                         (default bench/models/torch-tools, copies of the shared PyTorch reference)
set -euo pipefail
cd "$(dirname "$0")/.."
tools=${1:-bench/models/torch-tools}
[ -f "$tools/funit_torch.py" ] || { echo "make-animals: $tools/funit_torch.py not found; pass the FUNIT tools folder" >&2; exit 2; }
/usr/bin/python3 -c "import torch" 2>/dev/null || { echo "make-animals: needs Debian's python3-torch (apt-get install python3-torch)" >&2; exit 2; }
node scripts/build.mjs
node dist/bench/bench.js --write-animals
/usr/bin/python3 bench/models/make_reference.py --tools "$tools" animals bench/models/animals128
