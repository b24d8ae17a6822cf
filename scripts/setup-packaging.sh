#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what `make deb` and `make rpm` need beyond scripts/setup-debian.sh,
# from Debian's packages: debhelper and dpkg-dev (dpkg-buildpackage), rpm
# (rpmbuild). Safe to run again: it installs only what is missing.
set -euo pipefail
"$(dirname "$0")/apt.sh" install setup-packaging debhelper dpkg-dev rpm
