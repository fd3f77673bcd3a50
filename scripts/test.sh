#!/usr/bin/env bash
# Every check the project has: lint and format, strict type check, then the whole test suite against a real
# Redis and real loopback sockets.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --corpus --train
npx biome check .
npx tsc --noEmit -p tsconfig.json
npx vitest run "$@"
