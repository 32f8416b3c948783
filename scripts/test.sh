#!/usr/bin/env bash
# The test suite, as CI runs it: everything that runs without a GPU, with
# OpenCL on PoCL and NVRTC required (missing ones fail instead of skipping):
# the CUDA seeds and templates are compiled, not run.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/install-nvrtc.sh
export DISCOVER_REQUIRE_OPENCL=1 DISCOVER_REQUIRE_NVRTC=1
test -z "$(gofmt -l $(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $(git ls-files '*.go'); exit 1; }
go vet ./...
go test -timeout 60m ./...
