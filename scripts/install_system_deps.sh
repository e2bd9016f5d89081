#!/usr/bin/env bash
# System packages the test suite uses beyond Python: Debian's chromium, for the web page's
# end-to-end test (tests/service/test_service_browser.py; it skips when chromium is absent).
# Idempotent and quiet: installs only what is missing; needs root (or sudo) and apt-get.
set -euo pipefail

packages=(chromium)
missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install_system_deps: no apt-get here; install ${missing[*]} by hand (the browser test skips without it)" >&2
    exit 0
fi
as_root=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        as_root=(sudo -n)
    else
        echo "install_system_deps: not root and no sudo; cannot install ${missing[*]}" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install_system_deps: installed ${missing[*]}"
