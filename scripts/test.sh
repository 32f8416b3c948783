#!/usr/bin/env bash
# The test suite, as CI runs it: everything that runs without a GPU, with
# OpenCL on PoCL required (a missing platform fails instead of skipping).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export DISCOVER_REQUIRE_OPENCL=1
test -z "$(gofmt -l $(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $(git ls-files '*.go'); exit 1; }
go vet ./...
go test -timeout 60m ./...
