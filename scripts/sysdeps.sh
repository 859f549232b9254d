#!/usr/bin/env bash
# Install the system packages the test suite and the demo run for real, only when missing.
set -euo pipefail

missing=()
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
  missing+=(postgresql)
fi
if ! command -v promtool >/dev/null 2>&1; then
  missing+=(prometheus)
fi
# The dashboard's browser tests and PDF reports (Plotly's Kaleido drives the system Chromium).
if ! command -v chromium >/dev/null 2>&1; then
  missing+=(chromium)
fi
# pdftotext, to read the PDF reports back in the tests.
if ! command -v pdftotext >/dev/null 2>&1; then
  missing+=(poppler-utils)
fi
# `pincex bench generators` serves the same static answer from nginx (found in PATH or /usr/sbin).
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  missing+=(nginx)
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "sysdeps: missing system packages: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "sysdeps: not root and no sudo; install ${missing[*]} yourself" >&2
    exit 1
  fi
else
  SUDO=
fi
echo "sysdeps: apt-get update"
$SUDO apt-get update -qq
echo "sysdeps: apt-get install -y --no-install-recommends ${missing[*]}"
# Package scripts must not start services here: the tests start their own servers on loopback.
printf '#!/bin/sh\nexit 101\n' > /tmp/pincex-policy-rc.d
$SUDO install -m 0755 /tmp/pincex-policy-rc.d /usr/sbin/policy-rc.d.pincex
if [ ! -e /usr/sbin/policy-rc.d ]; then
  $SUDO cp /usr/sbin/policy-rc.d.pincex /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d /usr/sbin/policy-rc.d.pincex' EXIT
fi
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "sysdeps: installed ${missing[*]}"
