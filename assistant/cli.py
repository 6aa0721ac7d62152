"""The `assistant` command: ingest, status, sources, ask, chat, eval, serve."""
from __future__ import annotations

import functools
import gc
import inspect
import json
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import typer

from .config import Settings
from .schema import ConfigError

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None, help="Ask questions of your articles; every sentence cites its exact source span.")

IndexOpt = typer.Option(None, "--index", help="index folder (embedded Chroma) [env ASSISTANT_INDEX; default ./index]")
ChromaOpt = typer.Option(None, "--chroma-url", help="Chroma server, e.g. http://localhost:8000 [env ASSISTANT_CHROMA_URL]")
JsonOpt = typer.Option(False, "--json", help="print JSON only")
LlmUrlOpt = typer.Option(None, "--llm-base-url", help="OpenAI-compatible server, e.g. http://localhost:8080/v1 [env ASSISTANT_LLM_BASE_URL]")
LlmModelOpt = typer.Option(None, "--llm-model", help="model name on that server [env ASSISTANT_LLM_MODEL]")
LlmKeyOpt = typer.Option(None, "--llm-api-key", help="API key for that server [env ASSISTANT_LLM_API_KEY]")
AnswererOpt = typer.Option(None, "--answerer", help="extractive | llm | auto [env ASSISTANT_ANSWERER]")
VerboseOpt = typer.Option(False, "--verbose", "-v", help="show the standalone query and timings")


def _fail(message: str, code: int = 1) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@contextmanager
def _progress(label: str, show: bool):
    """A progress bar on stderr while it is a terminal (and show); yields update(n, total, description="")."""
    if not (show and sys.stderr.isatty()):
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  TextColumn("{task.description}"), console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("", total=None)
        yield lambda n, total, description="": bar.update(task, completed=n, total=total, description=description)


def _open(settings: Settings, create: bool = False, hint: str = "", answering: bool = False, started: bool = True):
    """The Assistant over settings' index; a reader (create=False) refuses to make an index folder that is not there.
    answering: the command is about to answer, so the models load while the index opens. started: the command's
    start-up ends here (see _started)."""
    from .core import Assistant
    from .schema import AssistantError

    try:
        Assistant.check_settings(settings)
    except ConfigError as exc:
        _fail(str(exc), 2)
    if not create and not settings.chroma_url and not settings.index_dir.is_dir():
        _fail(f"no index at {settings.index_dir}: `assistant ingest FOLDER --index {settings.index_dir}` creates one "
              f"(or check --index / ASSISTANT_INDEX){hint}", 2)
    try:
        assistant = Assistant(settings, preload=answering)
    except AssistantError as exc:
        _fail(str(exc), 2 if isinstance(exc, ConfigError) else 1)
    if started:
        _started()
    return assistant


@app.command()
def ingest(
    paths: list[Path] = typer.Argument(..., help="files and folders (folders recursively; the index mirrors them)"),
    index: Optional[Path] = IndexOpt,
    chroma_url: Optional[str] = ChromaOpt,
    as_json: bool = JsonOpt,
    metadata: Optional[Path] = typer.Option(None, "--metadata", help="a .csv (path,title,date,url) or .jsonl file "
                                            "of titles, dates and urls; paths relative to the ingested folder"),
):
    """Add, update and remove documents so the index mirrors PATHS (titles, dates and urls also from a
    metadata.csv or metadata.jsonl at a folder's root)."""
    settings = Settings.load(index_dir=index, chroma_url=chroma_url)
    assistant = _open(settings, create=True)
    from .schema import AssistantError

    try:
        with _progress("ingesting", show=not as_json) as update:
            summary = assistant.ingest(paths, progress=update, metadata=metadata)
    except AssistantError as exc:  # e.g. the embedding server failed: what was written stays, the next run goes on
        _fail(str(exc))
    result = summary.to_dict()
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
    else:
        typer.echo(f"added {result['added']}, updated {result['updated']}, unchanged {result['unchanged']}, "
                   f"removed {result['removed']}, " + (f"relabelled {result['relabelled']}, " if result['relabelled'] else "")
                   + (f"already indexed under another name {len(result['duplicates'])}, " if result['duplicates'] else "")
                   + f"failed {len(result['failed'])}; "
                   f"index: {result['documents']} documents, {result['chunks']} chunks")
        for d in result["duplicates"]:
            held = os.path.join(d["folder"], d["same_as"]) if d["folder"] else f"the upload {d['same_as']}"
            typer.echo(f"  not indexed again: {d['path']}: same file as {held} (document {d['document_id']})")
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
    if not sys.stdout.isatty():
        # Piped: one tab-separated line per document, nothing cut, so ids can be copied and cut(1) works.
        typer.echo("id\tsource\ttitle\tchunks\tsha256\tingested\tdate\turl")
        for d in docs:
            typer.echo("\t".join(" ".join(str(v).split()) for v in (d.id, d.source, d.title, d.chunks, d.sha256,
                                                                      d.ingested_at, d.date, d.url)))
        return
    from rich.console import Console
    from rich.table import Table

    from .ingest.metadata import shown_date

    table = Table("id", "source", "title", "date", "chunks", "sha256", "ingested")
    table.columns[0].no_wrap = True  # an id is copied whole or not at all
    table.columns[0].min_width = max((len(d.id) for d in docs), default=2)
    for d in docs:
        table.add_row(d.id, d.source, d.title, shown_date(d.date), str(d.chunks), d.sha256[:12], d.ingested_at)
    Console().print(table)


@dataclass
class AnswerOptions:
    """The options every answering command shares: where the index is and who answers."""

    index: Optional[Path] = None
    chroma_url: Optional[str] = None
    llm_base_url: Optional[str] = None
    llm_model: Optional[str] = None
    llm_api_key: Optional[str] = None
    answerer: Optional[str] = None

    def settings(self, **more) -> Settings:
        return Settings.load(index_dir=more.pop("index_dir", self.index), chroma_url=self.chroma_url,
                             llm_base_url=self.llm_base_url, llm_model=self.llm_model, llm_api_key=self.llm_api_key,
                             answerer=self.answerer, **more)


ANSWER_OPTIONS = {"index": (Optional[Path], IndexOpt), "chroma_url": (Optional[str], ChromaOpt),
                  "llm_base_url": (Optional[str], LlmUrlOpt), "llm_model": (Optional[str], LlmModelOpt),
                  "llm_api_key": (Optional[str], LlmKeyOpt), "answerer": (Optional[str], AnswererOpt)}


def answer_options(command):
    """Give a command the shared answering options; it receives them together as `options: AnswerOptions`.

    typer reads a command's options from its signature, so the wrapper's signature is the command's own parameters
    followed by the shared ones (written once here, not in every command)."""
    own = [p for p in inspect.signature(command).parameters.values() if p.name != "options"]
    shared = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=kind)
              for name, (kind, option) in ANSWER_OPTIONS.items()]

    @functools.wraps(command)
    def run(**kwargs):
        options = AnswerOptions(**{name: kwargs.pop(name) for name in ANSWER_OPTIONS})
        return command(options=options, **kwargs)

    run.__signature__ = inspect.Signature([p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own] + shared)
    return run


def _print_answer(answer, verbose: bool, served_by: str | None = None) -> None:
    from rich.console import Console
    from rich.markup import escape

    from .ingest.metadata import shown_date

    console = Console(highlight=False)
    if verbose:
        console.print(f"[dim]standalone query: {escape(answer.rewritten_query)}[/dim]")
    for s in answer.sentences:
        style = "" if s.verdict in ("supported", "abstain") else "yellow"
        note = f" [dim]· {escape(s.verdict_words())}[/dim]" if s.verdict_words() else ""
        console.print(f"[{style}]{escape(s.text)}[/{style}]{note}" if style else f"{escape(s.text)}{note}")
    if answer.notice:
        console.print(f"[dim]{escape(answer.notice)}[/dim]")
    for c in answer.citations:
        page = f", page {c.page}" if c.page else ""
        date = f"{shown_date(c.date)}, " if c.date else ""
        url = f", {c.url}" if c.url else ""
        named = f"{escape(c.title)} [dim]({date}{escape(c.source)}{page}, chars {c.start}-{c.end}{escape(url)})[/dim]" if c.title \
            else f"{escape(c.source)} [dim]({date}chars {c.start}-{c.end}{page}{escape(url)})[/dim]"  # a file name once
        console.print(f"[bold][{c.marker}][/bold] {named}")
        console.print(f"    [italic]\u201c{escape(c.text.strip())}\u201d[/italic]")
    if verbose:
        console.print(f"[dim]{', '.join(f'{k} {v:.0f}' for k, v in answer.timings.items())}[/dim]")
        console.print(f"[dim]answered by the server at {escape(served_by)}[/dim]" if served_by else "[dim]answered in this process[/dim]")


@app.command()
@answer_options
def ask(
    question: str = typer.Argument(..., help="the question"),
    as_json: bool = JsonOpt,
    verbose: bool = VerboseOpt,
    no_server: bool = typer.Option(False, "--no-server", help="answer in this process even when `assistant serve` runs on this index [env ASSISTANT_USE_RUNNING_SERVER=false]"),
    options: AnswerOptions = None,
):
    """Answer one question; every sentence cites the exact span it rests on.

    When `assistant serve` runs on the same index with the same answering settings, the question goes to it (its
    models are warm: the answer comes at once); otherwise this process loads them."""
    from .schema import QuestionError, check_question

    settings = options.settings()
    try:  # before the index is opened: a question that cannot be asked is the asker's to fix at once
        question = check_question(question, settings.max_question_chars)
    except QuestionError as exc:
        _fail(str(exc), 2)
    served = None
    if settings.use_running_server and not no_server:
        from .server.running import ask_running

        served = ask_running(settings, question)
    if served is not None:
        url, data = served
        if as_json:
            typer.echo(json.dumps(data, ensure_ascii=False))
            return
        from .schema import Answer

        try:
            shown = Answer.from_dict(data, question)
        except (TypeError, ValueError, AttributeError):  # not an answer this version can read: answer here
            shown = None
        if shown is not None:
            _print_answer(shown, verbose, served_by=url)
            return
    answer = _answer_here(settings, question)
    if as_json:
        typer.echo(json.dumps(answer.to_dict(), ensure_ascii=False))
    else:
        _print_answer(answer, verbose)


def _answer_here(settings: Settings, question: str):
    """The answer made in this process (the index opened, the models loaded)."""
    from .schema import AssistantError

    assistant = _open(settings, answering=True)
    try:
        return assistant.ask(question)
    except AssistantError as exc:
        _fail(str(exc))


@app.command()
def check(
    text: str = typer.Argument(..., help="the text to check, or - to read it from standard input"),
    passages: list[Path] = typer.Option([], "--passage", "-p",
                                        help="a text file to check against (repeatable); without one, the collection is searched"),
    question: str = typer.Option("", "--question", "-q", help="the question the text answers (helps find evidence for short sentences)"),
    index: Optional[Path] = IndexOpt,
    chroma_url: Optional[str] = ChromaOpt,
    as_json: bool = JsonOpt,
):
    """Check any text (another chatbot's answer, a summary, a draft): which sentences the sources back, and where."""
    from .answering.check import check_passages, checked_input
    from .schema import AssistantError, QuestionError

    try:
        raw = sys.stdin.read() if text == "-" else text
        given = [p.read_text(encoding="utf-8", errors="replace") for p in passages] or None
        raw, given = checked_input(raw, given)
    except (QuestionError, OSError) as exc:
        _fail(str(exc), 2)
    try:
        if given is not None:  # no index needed: the passages are the evidence
            result = check_passages(raw, given)
        else:
            result = _open(Settings.load(index_dir=index, chroma_url=chroma_url), answering=True).check(raw)
    except QuestionError as exc:
        _fail(str(exc), 2)
    except AssistantError as exc:
        _fail(str(exc))
    if as_json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False))
        return
    names = [p.name for p in passages]
    for s in result.sentences:
        mark = "supported  " if s.supported else "UNSUPPORTED"
        typer.echo(f"{mark} (p {s.probability:.2f})  {s.text}")
        for c in s.citations:
            where = names[c["passage"]] if "passage" in c else " · ".join(x for x in (c["title"] or c["source"], c["date_shown"]) if x)
            quote = " ".join(c["text"].split())
            typer.echo(f"    [{where}, chars {c['start']}-{c['end']}] {quote[:160]}{'…' if len(quote) > 160 else ''}")
    d = result.to_dict()
    typer.echo(f"{d['supported']} of {len(result.sentences)} sentences supported")


@app.command()
@answer_options
def chat(
    verbose: bool = VerboseOpt,
    options: AnswerOptions = None,
):
    """An interactive session with history: follow-up questions work. Empty line or Ctrl-D ends it; /new starts over."""
    from .schema import AssistantError, Message

    assistant = _open(options.settings(), answering=True)
    if assistant.status()["documents"] == 0:
        typer.echo("The collection is empty: add articles with `assistant ingest FOLDER` first.", err=True)
    history: list[Message] = []
    typer.echo("Ask about your articles (/new for a new conversation, empty line to quit).")
    while True:
        try:
            question = input("> ").strip()
        except (EOFError, KeyboardInterrupt):
            typer.echo("")
            break
        if not question:
            break
        if question == "/new":
            history = []
            continue
        try:
            answer = assistant.ask(question, history)
        except AssistantError as exc:
            typer.echo(f"error: {exc}", err=True)
            continue
        _print_answer(answer, verbose)
        history += Message.exchange(question, answer)


EVAL_EXIT = "Exit status: 0; 1 when a --min/--max bound is not met; 2 on bad input; 3 when the assistant cannot start."


@app.command("eval", epilog=EVAL_EXIT)
@answer_options
def evaluate(
    questions: Path = typer.Argument(..., exists=True, dir_okay=False, help="question set (JSONL, see docs/eval.md)"),
    docs: Optional[Path] = typer.Option(None, "--docs", exists=True, file_okay=False, help="folder of the articles to answer from"),
    out: Optional[Path] = typer.Option(None, "--out", help="results file to write (JSONL), one line per question"),
    results: Optional[Path] = typer.Option(None, "--results", exists=True, dir_okay=False, help="score this results file instead of answering"),
    report: Optional[Path] = typer.Option(None, "--report", help="write a report: .html, or .md (its plot beside it as .svg)"),
    compare: Optional[Path] = typer.Option(None, "--compare", exists=True, dir_okay=False, help="an earlier results file of the same questions: show what changed"),
    at_least: list[str] = typer.Option([], "--min", help="METRIC=VALUE or KIND:METRIC=VALUE: exit 1 when that figure is lower (repeatable)"),
    at_most: list[str] = typer.Option([], "--max", help="METRIC=VALUE or KIND:METRIC=VALUE: exit 1 when that figure is higher (repeatable)"),
    as_json: bool = JsonOpt,
    options: AnswerOptions = None,
):
    """Answer QUESTIONS over DOCS into OUT (or read answers already written with --results), print the figures,
    optionally write a report and hold the figures to bounds."""
    from .evaluation.report import write
    from .evaluation.summary import evaluate as judge_run

    cases, bounds, old = _eval_inputs(questions, results, docs, out, report, compare, at_least, at_most)
    if results is not None:
        rows = _read_results(results)
    else:
        settings = options.settings(index_dir=_eval_index(options.index, options.chroma_url, docs))
        rows = _eval_answer(settings, cases, docs, out, show_progress=not as_json)
    ev = judge_run(questions.name, cases, rows, bounds, old, compare.name if compare else "old")
    _eval_print(ev, as_json)
    if report is not None:
        for path in write(ev, report):
            typer.echo(f"wrote {path}", err=True)
    for failure in ev.failed_bounds:
        typer.echo(f"gate: {failure}", err=True)
    if ev.failed_bounds:
        raise typer.Exit(1)


def _read_results(path: Path) -> list[dict]:
    from .evaluation.jsonl import read_jsonl
    from .evaluation.metrics import result_problem

    try:
        return read_jsonl(path, result_problem)
    except ValueError as exc:
        _fail(str(exc), 2)


def _eval_inputs(questions, results, docs, out, report, compare, at_least, at_most):
    """The question set, the bounds and the earlier run, all checked before a long run starts (exit 2 if bad)."""
    from .evaluation import run as evaluation
    from .evaluation.gate import check_kinds, parse_bound
    from .evaluation.metrics import kinds
    from .evaluation.report import report_format

    if results is not None and (docs is not None or out is not None):
        _fail("--results scores answers already written; it takes no --docs or --out", 2)
    if results is None and (docs is None or out is None):
        _fail("give --docs DIR and --out FILE to answer the questions, or --results FILE to score answers already written", 2)
    try:
        cases = evaluation.load_cases(questions)
        bounds = [parse_bound(b, True) for b in at_least] + [parse_bound(b, False) for b in at_most]
        check_kinds(bounds, kinds(cases))
        if report is not None:
            report_format(report)
    except ValueError as exc:
        _fail(str(exc), 2)
    return cases, bounds, (_read_results(compare) if compare is not None else None)


def _eval_index(index: Optional[Path], chroma_url: Optional[str], docs: Path) -> Optional[Path]:
    """The index given, else one of its own per article folder, so evaluating another corpus never mixes with ./index."""
    if index is not None or chroma_url is not None or Settings.load().chroma_url:
        return index
    import hashlib

    key = hashlib.sha1(str(docs.resolve()).encode()).hexdigest()[:10]
    return Path(Settings.load().index_dir) / "eval" / key


def _eval_answer(settings: Settings, cases: list[dict], docs: Path, out: Path, show_progress: bool) -> list[dict]:
    """Index DOCS (idempotently) and answer every case into OUT, with a progress bar on a terminal."""
    from .evaluation import run as evaluation
    from .core import Assistant
    from .schema import AssistantError

    try:
        assistant = Assistant(settings, preload=True)
        _started()
        assistant.answerer()  # an unknown answerer or a bad LLM setting says so before the run, not on every case
        with _progress("indexing", show=show_progress) as update:
            summary = assistant.ingest([docs], progress=update)
    except AssistantError as exc:
        _fail(str(exc), 3)
    typer.echo(f"index: {summary.documents} documents, {summary.chunks} chunks "
               f"(added {summary.added}, updated {summary.updated}, removed {summary.removed}, failed {len(summary.failed)})", err=True)
    with _progress("answering", show=show_progress) as update:
        rows = evaluation.run(assistant, cases, out, progress=update)
    errors = [r for r in rows if r.get("error")]
    if errors:
        typer.echo(f"{len(errors)} of {len(rows)} questions failed to answer, e.g. {errors[0]['id']}: {errors[0]['error']}", err=True)
    return rows


def _eval_print(ev, as_json: bool) -> None:
    """The figures on stdout: JSON, or one line a metric, per kind, the comparison, then the `score:` line."""
    from .evaluation.compare import summary_lines

    if as_json:
        typer.echo(json.dumps(ev.to_dict(), ensure_ascii=False))
        return
    for key, value in ev.metrics.items():
        typer.echo(f"{key}: {value:.3f}" if isinstance(value, float) else f"{key}: {value}")
    shown = {"answer_accuracy": "answer", "citation_support": "support", "abstention_recall": "abstain",
             "false_abstention": "false-abstain"}
    for kind, m in ev.by_kind.items():
        ok = ev.applicable(kind)
        typer.echo(f"kind {kind} ({m['cases']}): " + " ".join(f"{short} {m[k]:.2f}" for k, short in shown.items() if k in ok))
    if ev.comparison is not None:
        for line in summary_lines(ev.comparison):
            typer.echo(line)
    typer.echo(
        "score: answer {answer_accuracy:.2f} support {citation_support:.2f} precision {citation_precision:.2f} "
        "abstain {abstention_recall:.2f} false-abstain {false_abstention:.2f} hit@k {retrieval_hit@k:.2f}".format(**ev.metrics)
    )


@app.command()
@answer_options
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="address to listen on (0.0.0.0: every interface)"),
    port: int = typer.Option(7860, "--port", help="port to listen on"),
    allow_remote: Optional[bool] = typer.Option(None, "--allow-remote", help="with no API keys configured, answer other machines too (default: this machine only) [env ASSISTANT_ALLOW_REMOTE]"),
    root_path: Optional[str] = typer.Option(None, "--root-path", help="behind a reverse proxy: the path it serves this at, e.g. /assistant, or the full public URL, e.g. https://intranet.example/assistant [env ASSISTANT_ROOT_PATH]"),
    forwarded_allow_ips: Optional[str] = typer.Option(None, "--forwarded-allow-ips", help="comma-separated addresses of the proxies whose X-Forwarded-For/-Proto are trusted (default 127.0.0.1; * trusts any) [env ASSISTANT_FORWARDED_ALLOW_IPS]"),
    create: bool = typer.Option(False, "--create", help="start with an empty index when the index folder does not exist"),
    options: AnswerOptions = None,
):
    """Serve the chat UI, the REST and OpenAI-compatible API, and the embeddable widget."""
    import uvicorn

    from .server.api import create_app
    from .server.proxy import public_root
    from .server.running import announced
    from .schema import AssistantError
    from .server.serving import port_problem
    from .server.warmup import Warmup

    proxies = None if forwarded_allow_ips is None else [p.strip() for p in forwarded_allow_ips.split(",") if p.strip()]
    settings = options.settings(allow_remote=allow_remote, root_path=root_path, forwarded_allow_ips=proxies)
    try:
        public = public_root(settings.root_path)
    except ValueError as exc:
        _fail(str(exc), 2)
    problem = port_problem(host, port)
    if problem:
        _fail(problem, 2)
    assistant = _open(settings, create=create, hint="; --create starts with an empty one", answering=True, started=False)
    warmup = Warmup(assistant)
    warmup.start()  # the models warm up while the chat UI is built (importing gradio alone takes two seconds)
    try:
        web = create_app(settings, assistant, warmup=warmup)
    except AssistantError as exc:
        _fail(str(exc))
    _started()
    keyed = bool(settings.api_keys or settings.read_keys)
    access = "API keys required" if keyed else ("open to the network, no keys" if settings.allow_remote else "this machine only")
    where = f" (public path {public.path}/)" if public.path else ""
    typer.echo(f"serving http://{host if ':' not in host else f'[{host}]'}:{port}/{where} ({access}); API docs at /docs", err=True)
    with announced(settings, host, port, web.state.instance):  # `assistant ask` on this index asks it (server/running.py)
        uvicorn.run(web, host=host, port=port, log_level="warning", timeout_graceful_shutdown=5, root_path=public.path,
                    proxy_headers=bool(settings.forwarded_allow_ips), forwarded_allow_ips=",".join(settings.forwarded_allow_ips) or None)


def _started() -> None:
    """The command's modules are imported and its index is open: collect garbage again from here on, leaving out
    what start-up made (it lives as long as the process)."""
    gc.freeze()
    gc.enable()


def main() -> None:
    # Start-up imports make millions of objects that all stay alive: collecting garbage meanwhile finds nothing
    # and costs ~60 ms; at exit, freezing what is left spares the interpreter traversing it all again (~0.1 s
    # with chromadb imported). Collection resumes once the command has opened its index (_started).
    gc.disable()
    try:
        app()
    except ConfigError as exc:  # a bad flag or environment value: one line, the usage-error status
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    finally:
        gc.freeze()


if __name__ == "__main__":
    main()
