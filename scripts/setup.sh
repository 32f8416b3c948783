#!/usr/bin/env bash
# Installs what discover needs to run here: an OpenCL platform (PoCL, on the
# CPU) unless one is present, and builds the binary. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v go >/dev/null; then
  echo "setup: Go is required (https://go.dev/dl/); /usr/local/go/bin must be on PATH" >&2
  exit 1
fi

if ! ldconfig -p | grep -q 'libOpenCL.so.1' || ! ls /etc/OpenCL/vendors/*.icd >/dev/null 2>&1; then
  echo "setup: installing PoCL (OpenCL on the CPU)" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq pocl-opencl-icd ocl-icd-libopencl1 >/dev/null
fi

CGO_ENABLED=0 go build -o discover ./cmd/discover
echo "setup: built ./discover" >&2
