#!/usr/bin/env bash
# Install Debian's chromium for the report's headless-browser test (tests/test_report.py).
# Never fails: when chromium cannot be installed (no apt-get, not root, no network) it says so
# and exits 0, and the test skips with the reason.
set -u

found() { command -v chromium || command -v chromium-browser; }

if found >/dev/null 2>&1; then
    echo "setup_chromium: $(found) is installed"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup_chromium: no apt-get here; the chromium test will be skipped"
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "setup_chromium: not root, cannot apt-get install chromium; the chromium test will be skipped"
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
install() { apt-get install -y -q --no-install-recommends chromium >/dev/null 2>&1; }
# update the package lists only when the package is unknown or the first try fails (stale lists)
if ! apt-cache show chromium >/dev/null 2>&1 || ! install; then
    apt-get update -q >/dev/null 2>&1
    install
fi

if found >/dev/null 2>&1; then
    echo "setup_chromium: installed $(found)"
else
    echo "setup_chromium: could not install chromium with apt-get; the chromium test will be skipped"
fi
exit 0
