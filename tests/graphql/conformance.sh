#!/usr/bin/env bash
# Runs conformance.mjs (graphql-js, installed from the npm registry with
# npm ci) against the whole suite on free ports.
# Usage: tests/graphql/conformance.sh BIN_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$(cd "${1:?usage: conformance.sh BIN_DIR}" && pwd)
# shellcheck source=../lib/suite.sh
source "$here/../lib/suite.sh"
npm_install "$here"
start_suite
node "$work/conformance.mjs" "http://$gateway_addr/graphql"
