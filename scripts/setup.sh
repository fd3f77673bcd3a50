#!/usr/bin/env bash
# Idempotent machine setup for forkguard: installs what is missing and does nothing where it is present.
#   scripts/setup.sh            node modules + Redis (what `forkguard start` and the tests need)
#   scripts/setup.sh --corpus   also the speech and audio tools the corpus generator uses (and the G.722 reference)
#   scripts/setup.sh --train    also Debian's PyTorch, which `forkguard train` uses
set -euo pipefail
cd "$(dirname "$0")/.."

want_corpus=0
want_train=0
for arg in "$@"; do
  case "$arg" in
    --corpus) want_corpus=1 ;;
    --train) want_train=1 ;;
    *) echo "setup.sh: unknown option $arg (expected --corpus or --train)" >&2; exit 2 ;;
  esac
done

apt_missing=()
need_cmd() { command -v "$1" >/dev/null 2>&1 || apt_missing+=("$2"); }
need_py() { /usr/bin/python3 -c "import $1" >/dev/null 2>&1 || apt_missing+=("$2"); }

need_cmd redis-server redis-server
if [ "$want_corpus" = 1 ]; then
  need_cmd espeak-ng espeak-ng
  need_cmd festival festival
  need_cmd flite flite
  need_cmd sox sox
  [ -d /usr/share/festival/voices/english/kal_diphone ] || apt_missing+=(festvox-kallpc16k)
  # FFmpeg's G.722, the independent reference test/ingest/codecs/g722-ffmpeg.test.ts checks the codec against.
  /sbin/ldconfig -p | grep -q 'libavcodec\.so\.59' || apt_missing+=(libavcodec59)
fi
if [ "$want_train" = 1 ]; then
  need_py torch python3-torch
  need_py numpy python3-numpy
  need_py matplotlib python3-matplotlib
fi

if [ "${#apt_missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup.sh: missing ${apt_missing[*]}; install them with: sudo apt-get install ${apt_missing[*]}" >&2
    exit 1
  fi
  echo "setup.sh: installing ${apt_missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${apt_missing[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-fund --no-audit >&2
fi

scripts/ensure-redis.sh
