#!/usr/bin/env bash
# The OpenAPI description a real gateway serves, validated by an OpenAPI 3.1
# validator from npm (@seriousme/openapi-schema-validator). That it names
# every route and no other is gateway_test's part.
# Usage: tests/openapi/openapi.sh BIN_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$(cd "${1:?usage: openapi.sh BIN_DIR}" && pwd)
# shellcheck source=../lib/suite.sh
source "$here/../lib/suite.sh"
npm_install "$here"
start gateway arca-gateway
node "$work/validate.mjs" "http://$gateway_addr/api/v1/openapi.json"
