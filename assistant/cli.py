"""The `assistant` command: ingest, status, sources, ask, chat, eval, serve."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from .config import Settings, offline_setup

offline_setup()

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Ask questions of your articles; every sentence cites its exact source span.")

IndexOpt = typer.Option(None, "--index", help="index folder (embedded Chroma) [env ASSISTANT_INDEX; default ./index]")
ChromaOpt = typer.Option(None, "--chroma-url", help="Chroma server, e.g. http://localhost:8000 [env ASSISTANT_CHROMA_URL]")
JsonOpt = typer.Option(False, "--json", help="print JSON only")
LlmUrlOpt = typer.Option(None, "--llm-base-url", help="OpenAI-compatible server, e.g. http://localhost:8080/v1 [env ASSISTANT_LLM_BASE_URL]")
LlmModelOpt = typer.Option(None, "--llm-model", help="model name on that server [env ASSISTANT_LLM_MODEL]")
LlmKeyOpt = typer.Option(None, "--llm-api-key", help="API key for that server [env ASSISTANT_LLM_API_KEY]")
AnswererOpt = typer.Option(None, "--answerer", help="extractive | llm | auto [env ASSISTANT_ANSWERER]")


def _fail(message: str, code: int = 1) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _open(settings: Settings):
    from .core import Assistant
    from .schema import AssistantError

    try:
        return Assistant(settings)
    except AssistantError as exc:
        _fail(str(exc))


@app.command()
def ingest(
    paths: list[Path] = typer.Argument(..., help="files and folders (folders recursively; the index mirrors them)"),
    index: Optional[Path] = IndexOpt,
    chroma_url: Optional[str] = ChromaOpt,
    as_json: bool = JsonOpt,
):
    """Add, update and remove documents so the index mirrors PATHS."""
    settings = Settings.load(index_dir=index, chroma_url=chroma_url)
    assistant = _open(settings)
    show_bar = not as_json and sys.stderr.isatty()
    if show_bar:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        with Progress(TextColumn("ingesting"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                      TextColumn("{task.description}"), transient=True) as bar:
            task = bar.add_task("", total=None)
            summary = assistant.ingest(paths, progress=lambda n, total, name: bar.update(task, completed=n, total=total, description=name))
    else:
        summary = assistant.ingest(paths)
    result = summary.to_dict()
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
    else:
        typer.echo(f"added {result['added']}, updated {result['updated']}, unchanged {result['unchanged']}, "
                   f"removed {result['removed']}, failed {len(result['failed'])}; "
                   f"index: {result['documents']} documents, {result['chunks']} chunks")
        for f in result["failed"]:
            typer.echo(f"  failed: {f['path']}: {f['reason']}", err=True)
    if result["failed"]:
        raise typer.Exit(3)


@app.command()
def status(index: Optional[Path] = IndexOpt, chroma_url: Optional[str] = ChromaOpt, as_json: bool = JsonOpt):
    """Where the index is, its embedder, and how many documents and chunks it holds."""
    settings = Settings.load(index_dir=index, chroma_url=chroma_url)
    info = _open(settings).status()
    if as_json:
        typer.echo(json.dumps(info))
        return
    for key, value in info.items():
        typer.echo(f"{key:>12}: {value}")


@app.command()
def sources(index: Optional[Path] = IndexOpt, chroma_url: Optional[str] = ChromaOpt, as_json: bool = JsonOpt):
    """The indexed documents with their hashes and chunk counts."""
    settings = Settings.load(index_dir=index, chroma_url=chroma_url)
    docs = _open(settings).documents()
    if as_json:
        typer.echo(json.dumps([d.summary() for d in docs], ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("id", "source", "title", "chunks", "sha256", "ingested")
    for d in docs:
        table.add_row(d.id, d.source, d.title[:50], str(d.chunks), d.sha256[:12], d.ingested_at)
    Console().print(table)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
