#!/usr/bin/env bash
# Installs what wgrad needs on a fresh machine, and does nothing where it is already there:
#  - the libraries for Dawn's OpenGL backend on Mesa's software rasteriser (headless machines without a GPU);
#    Dawn dlopens the unversioned libEGL.so, which only libegl-dev ships;
#  - Fashion-MNIST (real 28x28 images in 10 classes) from Debian, the default data of the image example;
#  - the npm dependencies (npm ci, from package-lock.json), which also embeds kernels/ into src/generated/;
#  - Debian's Chromium, for the browser tests, unless WGRAD_CHROMIUM names another browser;
#  - the MobileNetV2 weights (weights/*.onnx), converted from the nsfwjs dev dependency when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libegl1 libegl-mesa0 libgl1-mesa-dri libegl-dev dataset-fashion-mnist)
# The browser tests (test/browser.test.ts, test/browser-page.test.ts) run Debian's Chromium on SwiftShader; with
# WGRAD_CHROMIUM naming another Chromium or Chrome, none is installed. A font, so the page's canvases draw text.
if [ -z "${WGRAD_CHROMIUM:-}" ]; then packages+=(chromium fonts-dejavu-core); fi
missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: the software WebGPU adapter needs: ${missing[*]}" >&2
    echo "setup: run as root, or: sudo apt-get install ${missing[*]}" >&2
  fi
fi

# onnxruntime-node (a dev dependency here, for the backbone tests) downloads CUDA files at install on Linux x64
# unless told to skip them; wgrad runs it on the CPU.
export ONNXRUNTIME_NODE_INSTALL=skip
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-fund --no-audit --loglevel=error
fi
node scripts/embed-kernels.mjs
npm run --silent weights
