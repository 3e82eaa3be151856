#!/usr/bin/env bash
# The Debian packages the tests use as real parts: socat (pseudo-terminal serial lines), libcoap's
# coap-client (a CoAP client nobody here wrote), chromium (the dashboard's browser test), and the
# emulated Cortex-M board's toolchain (hardware/mps2-an385): wabt (wasm2c, wasm-rt.h),
# gcc-arm-none-eabi with picolibc, qemu-system-arm.
# Run by `npm test` (pretest) and by .ci/run: installs what is missing when it can (root with
# apt-get), otherwise says exactly what to install and fails before any test runs.
set -euo pipefail
need=()
command -v socat >/dev/null || need+=(socat)
command -v coap-client-notls >/dev/null || command -v coap-client >/dev/null || need+=(libcoap3-bin)
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/bin/wasm2c ] && [ -f /usr/include/wasm-rt.h ] || need+=(wabt)
command -v arm-none-eabi-gcc >/dev/null || need+=(gcc-arm-none-eabi)
[ -f /usr/lib/picolibc/arm-none-eabi/picolibc.specs ] || need+=(picolibc-arm-none-eabi)
command -v qemu-system-arm >/dev/null || need+=(qemu-system-arm)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "test dependencies: apt-get install ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
else
  echo "the tests need these Debian packages: ${need[*]}" >&2
  echo "install them with: sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
