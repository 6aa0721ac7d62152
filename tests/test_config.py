"""Settings: grouped by component, every field reachable from the environment, bad values a one-line error."""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from assistant.config import (AnsweringSettings, ApiSettings, EmbeddingSettings, IngestSettings, LLMSettings,
                              RetrievalSettings, Settings, StoreSettings)
from assistant.schema import AssistantError, ConfigError

GROUPS = (StoreSettings, EmbeddingSettings, LLMSettings, IngestSettings, RetrievalSettings, AnsweringSettings,
          ApiSettings)
README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.fixture
def env(monkeypatch):
    for var in Settings.env_names():
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


def test_every_setting_belongs_to_one_group_and_reads_flat():
    owners = {}
    for group in GROUPS:
        for f in dataclasses.fields(group):
            assert f.name not in owners, f"{f.name} is in {owners.get(f.name)} and {group.__name__}"
            owners[f.name] = group.__name__
    assert set(owners) == {f.name for f in dataclasses.fields(Settings)}
    settings = Settings()
    assert isinstance(settings, RetrievalSettings) and settings.top_k == 8 and settings.collection == "articles"


@pytest.mark.parametrize("field", [f.name for f in dataclasses.fields(Settings)])
def test_every_setting_has_its_derived_environment_name(field):
    assert Settings.env_names(field)[0] == "ASSISTANT_" + field.upper()


def test_environment_values_are_read_by_derived_names_and_documented_aliases(env, tmp_path):
    env.setenv("ASSISTANT_SUPPORT_THRESHOLD", "0.7")  # was not reachable from the environment before
    env.setenv("ASSISTANT_INDEX", str(tmp_path / "documented"))
    env.setenv("ASSISTANT_RATE_LIMIT", "7")
    env.setenv("ASSISTANT_CORS_ORIGINS", "https://a.example, https://b.example")
    settings = Settings.load()
    assert settings.support_threshold == 0.7 and settings.rate_limit_per_minute == 7
    assert settings.index_dir == tmp_path / "documented"
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    env.setenv("ASSISTANT_INDEX_DIR", str(tmp_path / "derived"))
    assert Settings.load().index_dir == tmp_path / "derived"  # the derived name wins over the alias
    assert Settings.load(index_dir=tmp_path / "flag").index_dir == tmp_path / "flag"  # and a flag over both


@pytest.mark.parametrize("var, raw", [("ASSISTANT_TOP_K", "eight"), ("ASSISTANT_LLM_FALLBACK", "maybe"),
                                      ("ASSISTANT_RATE_LIMIT", "1.5")])
def test_a_bad_value_is_a_config_error_naming_the_variable(env, var, raw):
    env.setenv(var, raw)
    with pytest.raises(ConfigError, match=rf"^{var}='{re.escape(raw)}' is not a valid (int|bool)$") as caught:
        Settings.load()
    assert isinstance(caught.value, AssistantError)


def test_the_cli_says_a_bad_value_in_one_line_and_exits_2(cli, tmp_path):
    result = cli("status", "--index", tmp_path / "index", env={"ASSISTANT_MAX_MESSAGES": "lots"}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "error: ASSISTANT_MAX_MESSAGES='lots' is not a valid int"
    assert not (tmp_path / "index").exists()


def test_the_readme_documents_only_real_settings_and_the_aliases():
    documented = set(re.findall(r"ASSISTANT_[A-Z_]+[A-Z]", README.read_text(encoding="utf-8")))
    known = set(Settings.env_names())
    assert documented <= known, f"README names unknown settings: {sorted(documented - known)}"
    assert set(Settings.ALIASES.values()) <= documented
