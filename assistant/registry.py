"""One registry, name -> factory, for every pluggable part: embedders, answerers, rewriters, fusion methods.

The built-in parts are plugins like any other (simonw/llm's DEFAULT_PLUGINS): each module in DEFAULT_PLUGINS, and
each module a package names under the entry-point group "assistant", has a `register(registry)` function that
adds its parts. Nothing registers by being imported, so no module needs to import the modules that plug into it.
"""
from __future__ import annotations

import importlib
import threading
from importlib.metadata import entry_points
from typing import Any, Callable, Generic, TypeVar

from .schema import AssistantError, ConfigError

T = TypeVar("T")

DEFAULT_PLUGINS = ("assistant.index.embed", "assistant.index.retrieve", "assistant.question.rewrite",
                   "assistant.answering.extractive", "assistant.answering.llm")
ENTRY_POINT_GROUP = "assistant"


class Kind(Generic[T]):
    """The factories of one kind of part, by name."""

    def __init__(self, kind: str):
        self.kind = kind
        self._factories: dict[str, Callable[..., T]] = {}

    def add(self, name: str, factory: Callable[..., T]) -> None:
        known = self._factories.get(name)
        if known is not None and known is not factory:
            raise AssistantError(f"two {self.kind}s are registered as {name!r}")
        self._factories[name] = factory

    def names(self) -> list[str]:
        load_plugins()
        return list(self._factories)

    def factory(self, name: str) -> Callable[..., T]:
        load_plugins()
        try:
            return self._factories[name]
        except KeyError:
            raise ConfigError(f"unknown {self.kind} {name!r}; choose one of {', '.join(self._factories)}") from None

    def create(self, name: str, *args: Any, **kwargs: Any) -> T:
        return self.factory(name)(*args, **kwargs)


class Registry:
    def __init__(self):
        self.embedders: Kind[Any] = Kind("embedder")
        self.answerers: Kind[Any] = Kind("answerer")
        self.rewriters: Kind[Any] = Kind("rewriter")
        self.fusions: Kind[Any] = Kind("fusion method")


registry = Registry()
_loaded = False
_lock = threading.RLock()


def load_plugins() -> None:
    """Register the built-in parts, then those of installed plugins (once)."""
    global _loaded
    if _loaded:
        return
    with _lock:
        if _loaded:
            return
        modules = [importlib.import_module(name) for name in DEFAULT_PLUGINS]
        modules += [ep.load() for ep in entry_points(group=ENTRY_POINT_GROUP)]
        for module in modules:
            module.register(registry)
        _loaded = True
