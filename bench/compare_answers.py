"""Answers before and after a change: every question of bench/data's question sets asked of its corpus, each answer's
text, abstention, confidence, rewritten query and cited offsets recorded, and two recordings diffed.

    python bench/compare_answers.py record before.json [--index-cache DIR]   # on the old code
    python bench/compare_answers.py record after.json  [--index-cache DIR]   # on the new code
    python bench/compare_answers.py diff before.json after.json              # exit 1 when anything differs
    python bench/compare_answers.py diff a.json b.json --ignore confidence   # all but these fields
    python bench/compare_answers.py record seeds.json --sets seeds          # one set (wiki ingests for minutes)
    python bench/compare_answers.py record old.json --code /tmp/old         # the code of another checkout (a
                                                                            # `git worktree` of an older commit)

Sets: wiki_questions.jsonl on bench/data/wiki, seeds_extra.jsonl on ../shared/seeds (follow-ups asked after their
history, as eval does; ASSISTANT_SEEDS names another seeds folder). A refactoring that must not change behaviour
diffs empty.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SEEDS = Path(os.environ.get("ASSISTANT_SEEDS", ROOT.parent / "shared" / "seeds"))  # another checkout's seeds
SETS = {"wiki": (ROOT / "bench" / "data" / "wiki", ROOT / "bench" / "data" / "wiki_questions.jsonl"),
        "seeds": (SEEDS, ROOT / "bench" / "data" / "seeds_extra.jsonl")}


def replay(assistant, turns: list[str]) -> list[dict]:
    """The history of earlier turns, each asked in order and its answer's text becoming the history: as plain
    messages, which every version of Assistant.ask takes (evaluation.run.replay's typed Messages are newer)."""
    history: list[dict] = []
    for turn in turns:
        history += [{"role": "user", "content": turn}, {"role": "assistant", "content": assistant.ask(turn, history).text}]
    return history


def record(out: Path, cache: Path | None, names: list[str], code: Path | None = None) -> None:
    if code:  # another checkout's assistant package answers this checkout's question sets
        sys.path.insert(0, str(code.resolve()))
    from assistant.config import Settings
    from assistant.core import Assistant

    recorded: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            docs, questions = SETS[name]
            assistant = Assistant(Settings.load(index_dir=(cache or Path(tmp)) / name))
            assistant.ingest([docs])
            for line in questions.read_text(encoding="utf-8").splitlines():
                if not line.strip():
                    continue
                case = json.loads(line)
                answer = assistant.ask(case["question"], replay(assistant, case.get("history") or []))
                recorded[f"{name}/{case['id']}"] = {
                    "answer": answer.text, "abstained": answer.abstained, "rewritten_query": answer.rewritten_query,
                    "confidence": answer.confidence, "verdicts": [s.verdict for s in answer.sentences],
                    "citations": [[Path(c.source).name, c.start, c.end] for c in answer.citations],
                }
            print(f"{name}: {sum(k.startswith(name + '/') for k in recorded)} questions", file=sys.stderr)
    out.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def diff(before: Path, after: Path, ignore: set[str] = frozenset()) -> int:
    old, new = ({key: {f: v for f, v in case.items() if f not in ignore} for key, case in
                 json.loads(p.read_text(encoding="utf-8")).items()} for p in (before, after))
    changed = 0
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        changed += 1
        if a is None or b is None:
            print(f"{key}: only in {'after' if a is None else 'before'}")
            continue
        for field in sorted(set(a) | set(b)):
            if a.get(field) != b.get(field):
                print(f"{key} {field}:\n  before {a.get(field)!r}\n  after  {b.get(field)!r}")
    print(f"{len(set(old) | set(new))} questions, {changed} differ")
    return 1 if changed else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record")
    rec.add_argument("out", type=Path)
    rec.add_argument("--index-cache", type=Path, help="keep the indexes here between runs (ingest is idempotent)")
    rec.add_argument("--code", type=Path, help="a checkout whose assistant package answers (default: this one)")
    rec.add_argument("--sets", default=",".join(SETS), help=f"which sets, comma-separated (default {','.join(SETS)})")
    dif = sub.add_parser("diff")
    dif.add_argument("before", type=Path)
    dif.add_argument("after", type=Path)
    dif.add_argument("--ignore", default="", help="fields not compared, comma-separated (e.g. confidence)")
    args = parser.parse_args()
    if args.command == "record":
        if "PYTHONHASHSEED" not in os.environ:
            # one string hash order for every recording: two runs of one older commit (4cc6a2b) under hash seeds 1
            # and 2 gave an abstention's confidence differing in its third digit. It is not the only source of that
            # wobble (with the seed fixed it still moved between commits that did not touch it): see diff --ignore
            os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, "PYTHONHASHSEED": "0"})
        record(args.out, args.index_cache, args.sets.split(","), args.code)
    else:
        sys.exit(diff(args.before, args.after, set(filter(None, args.ignore.split(",")))))


if __name__ == "__main__":
    main()
