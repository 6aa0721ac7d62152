"""Support pairs for the verifier: (sentence, evidence, is the sentence backed by the evidence?), from
../shared/data/nli/ (its README gives sources and licences).

- MultiNLI (DocNLI's binary dev sets): entailment -> 1, not -> 0; the source is the premise.
- FEVER-NLI (DocNLI's binary dev and test sets): a claim against Wikipedia evidence; the source is the evidence's
  page (the title before its first " . ").
- WiCE (oracle chunks, dev and test): a Wikipedia claim against the cited page's evidence sentences; only
  "supported" is 1 (a partly supported sentence says something its evidence does not); the source is the claim.
- Factcheck-GPT: claims of LLM answers against retrieved passages; only "completely support" is 1; the source is
  the claim.
- BEGIN (knowledge-grounded dialogue responses, by other models, labelled by people): never trained on; the held-out
  check of "labelled data nobody here wrote". Fully attributable -> 1, not fully -> 0, generic ones left out.

Every source falls in one half, tune or report, by a hash of its key (never by row): the verifier is trained and its
threshold chosen on the tuning half, and figures are given on the reporting half and on BEGIN.
"""
from __future__ import annotations

import csv
import gzip
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

NLI_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "nli"
TRAINED_ON = ("mnli", "fever", "wice", "factcheck")
HELD_OUT = ("begin",)


@dataclass
class SupportPair:
    sentence: str
    evidence: str
    label: int  # 1: the evidence backs the sentence
    dataset: str
    source: str  # the key that decides the half

    @property
    def half(self) -> str:
        return source_half(self.dataset, self.source)


def source_half(dataset: str, source: str) -> str:
    digest = hashlib.sha1(f"{dataset}\x00{source}".encode("utf-8")).hexdigest()
    return "report" if int(digest, 16) % 2 else "tune"


def _lines(name: str):
    with gzip.open(NLI_DIR / name, "rt", encoding="utf-8") as f:
        yield from f


def docnli(name: str, dataset: str) -> list[SupportPair]:
    out = []
    for line in _lines(name):
        parts = line.rstrip("\n").split("\t")
        if len(parts) != 3 or parts[0] not in ("entailment", "not_entailment"):
            continue
        label, premise, hypothesis = parts
        source = premise.split(" . ", 1)[0] if dataset == "fever" else premise
        out.append(SupportPair(hypothesis.strip(), premise.strip(), int(label == "entailment"), dataset, source))
    return out


def wice(name: str) -> list[SupportPair]:
    out = []
    for line in _lines(name):
        row = json.loads(line)
        evidence = " ".join(row["evidence"]) if isinstance(row["evidence"], list) else str(row["evidence"])
        out.append(SupportPair(row["claim"], evidence, int(row["label"] == "supported"), "wice", row["claim"]))
    return out


def factcheck() -> list[SupportPair]:
    out = []
    for line in _lines("factcheck-gpt-claim-evidence-stance.jsonl.gz"):
        row = json.loads(line)
        stance = str(row["stance"]).lower()
        out.append(SupportPair(row["claim"], row["evidence"], int(stance.startswith("completely")), "factcheck",
                               row["claim"]))
    return out


def begin() -> list[SupportPair]:
    out = []
    csv.field_size_limit(sys.maxsize)
    for name in ("begin-wow-dev.tsv.gz", "begin-wow-test.tsv.gz", "begin-cmu-dog-dev.tsv.gz"):
        with gzip.open(NLI_DIR / name, "rt", encoding="utf-8") as f:
            for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
                label = (row.get("begin_label") or "").strip().lower()
                if label not in ("fully attributable", "not fully attributable"):
                    continue  # generic responses claim nothing to check
                out.append(SupportPair(row["response"], row["knowledge"], int(label == "fully attributable"), "begin",
                                       row["knowledge"]))
    return out


def all_pairs() -> list[SupportPair]:
    return (docnli("docnli-binary-mnli-dev.txt.gz", "mnli") + docnli("docnli-binary-fever-nli-dev.txt.gz", "fever")
            + docnli("docnli-binary-fever-nli-test.txt.gz", "fever") + wice("wice-oracle-chunks-claim-dev.jsonl.gz")
            + wice("wice-oracle-chunks-claim-test.jsonl.gz") + factcheck() + begin())
