#!/usr/bin/env bash
# Installs NVRTC (Debian's non-free libnvrtc11.2, the CUDA 11.8 runtime
# compiler) so that tests compile every CUDA seed and template without a GPU.
# Only the tests need it: on a GPU machine the CUDA toolkit's NVRTC is used.
set -euo pipefail
if ldconfig -p | grep -q 'libnvrtc\.so'; then
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
. /etc/os-release
if ! grep -rqsE "non-free([[:space:]]|$)" /etc/apt/sources.list /etc/apt/sources.list.d/; then
  echo "install-nvrtc: enabling Debian's non-free component for libnvrtc11.2" >&2
  printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: %s\nComponents: non-free\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$VERSION_CODENAME" | $sudo tee /etc/apt/sources.list.d/discover-nonfree.sources >/dev/null
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq libnvrtc11.2 >/dev/null
