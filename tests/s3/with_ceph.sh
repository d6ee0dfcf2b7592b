#!/usr/bin/env bash
# Runs a command with the environment of the Ceph that tests/s3/ceph.sh
# started in DIR: ARCA_S3_ENDPOINT and the AWS_* credentials.
# Usage: tests/s3/with_ceph.sh DIR COMMAND [ARG...]
set -euo pipefail
dir=$1
shift
# shellcheck source=/dev/null
source "$dir/env"
exec "$@"
