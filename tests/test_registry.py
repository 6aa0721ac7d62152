"""One registry for embedders, answerers, rewriters and fusion: the built-ins plug in the way a plugin does."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from assistant.registry import DEFAULT_PLUGINS, Kind, registry
from assistant.schema import ConfigError

REPO = Path(__file__).resolve().parent.parent


def test_the_built_in_parts_are_registered_by_their_modules():
    assert set(registry.embedders.names()) >= {"bge-small", "openai"}
    assert set(registry.answerers.names()) >= {"extractive", "llm"}
    assert set(registry.rewriters.names()) >= {"embedded", "llm"}
    assert set(registry.fusions.names()) >= {"relative_score", "rrf"}
    assert all(name.startswith("assistant.") for name in DEFAULT_PLUGINS)


def test_an_unknown_name_is_a_config_error_listing_the_choices():
    with pytest.raises(ConfigError, match=r"^unknown answerer 'oracle'; choose one of .*extractive"):
        registry.answerers.create("oracle", None)


def test_two_parts_under_one_name_are_refused():
    kind = Kind("thing")
    kind.add("a", int)
    kind.add("a", int)  # the same factory again (a module imported twice) is fine
    with pytest.raises(Exception, match="two things are registered as 'a'"):
        kind.add("a", float)


def test_an_installed_package_plugs_in_through_the_entry_point_group(tmp_path: Path):
    (tmp_path / "echo_plugin.py").write_text(textwrap.dedent('''
        class Echo:
            name = "echo"
            uses_store = False
            may_fall_back = False

            def __init__(self, settings):
                pass

        def register(registry):
            registry.answerers.add("echo", Echo)
    '''))
    dist = tmp_path / "echo_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: echo-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[assistant]\necho = echo_plugin\n")
    code = "from assistant.registry import registry; print(registry.answerers.create('echo', None).name)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=str(REPO),
                         env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert run.returncode == 0 and run.stdout.strip() == "echo", run.stderr[-2000:]
