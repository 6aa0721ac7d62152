"""`assistant serve` over a fresh index of the seed articles, for bench/ui.py and scripts/screenshot.py."""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from conftest import REPO
from servers import assistant_serve, build_index

# The shared data sits next to the checkout (as quickstart.sh expects it); the environment can point elsewhere.
SHARED = REPO.parent / "shared" if (REPO.parent / "shared").is_dir() else Path("/work/shared")
SEEDS = Path(os.environ.get("ASSISTANT_SEEDS", SHARED / "seeds"))
DEV = Path(os.environ.get("ASSISTANT_DEV", SHARED / "eval" / "dev.jsonl"))


@contextmanager
def start(workdir: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """Index the seed articles under workdir and serve them (settings as ASSISTANT_* in env); yields the base URL."""
    with assistant_serve(build_index(workdir / "index", SEEDS), env=env) as url:
        yield url
