"""Answers for the routes: from the cache, shared with an identical question being answered now, or computed in
worker threads, at most ANSWER_SLOTS at once."""
from __future__ import annotations

import asyncio
import os
from typing import AsyncIterator, Iterator

from starlette.concurrency import run_in_threadpool

from ...schema import Answer, Message
from ..warmup import Warmup
from .cache import AnswerCache, cached_events

# Answers computed at once: more only makes them take turns on the same cores (and fairly only in this queue).
ANSWER_SLOTS = max(2, os.cpu_count() or 1)


class Answering:
    def __init__(self, assistant, cache_size: int, warmup: Warmup):
        self.assistant = assistant
        self.warmup = warmup
        self.cache = AnswerCache(assistant, cache_size)
        self.slots = asyncio.Semaphore(ANSWER_SLOTS)

    async def ready(self) -> None:
        """Wait for the warm-up (a question that comes first would only load the same models at the same time)."""
        if not self.warmup.done.is_set():
            await run_in_threadpool(self.warmup.wait)

    async def cache_key(self, question: str, history: list[Message]) -> tuple | None:
        """Once the models are warm: the question's key under the collection's current revision."""
        await self.ready()
        if self.cache.stale():
            await run_in_threadpool(self.cache.refresh)
        return self.cache.key(question, history)

    async def whole(self, question: str, history: list[Message]) -> Answer:
        """The whole answer: from the cache, from an identical question being answered now, or computed."""
        key = await self.cache_key(question, history)
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        waiting = self.cache.pending.get(key) if key is not None else None
        if waiting is not None:
            try:
                return await asyncio.shield(waiting)
            except asyncio.CancelledError:
                if not waiting.cancelled():
                    raise  # this request was cancelled, not the one it waited for
            # the request it waited for went away: answer it here
        return await self.computed(key, question, history)

    async def computed(self, key: tuple | None, question: str, history: list[Message]) -> Answer:
        """Compute the answer, letting identical questions that come meanwhile wait for it."""
        future = asyncio.get_running_loop().create_future()
        if key is not None:
            self.cache.pending[key] = future
        try:
            async with self.slots:
                answer = await run_in_threadpool(self.assistant.ask, question, history)
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # marked retrieved: no warning when nobody else waited
            raise
        except BaseException:
            future.cancel()
            raise
        else:
            self.cache.put(key, answer)
            future.set_result(answer)
            return answer
        finally:
            if self.cache.pending.get(key) is future:
                del self.cache.pending[key]

    async def events(self, question: str, history: list[Message]) -> AsyncIterator[dict]:
        """Stream events (replayed from the cache or produced in worker threads); errors before the first raise here."""
        key = await self.cache_key(question, history)
        hit = self.cache.get(key)
        if hit is not None:
            return replayed(hit)
        gen: Iterator[dict] = self.assistant.stream(question, history)
        first = await self.step(gen)
        return self.rest(key, gen, first)

    async def step(self, gen: Iterator[dict]) -> dict | None:
        # A slot per step, not per stream: a slow reader (or one that never starts reading) holds none.
        async with self.slots:
            return await run_in_threadpool(next, gen, None)

    async def rest(self, key: tuple | None, gen: Iterator[dict], first: dict | None) -> AsyncIterator[dict]:
        event = first
        while event is not None:
            if event["event"] == "done":
                self.cache.put(key, event["answer"])
            yield event
            event = await self.step(gen)


async def replayed(answer: Answer) -> AsyncIterator[dict]:
    for event in cached_events(answer):
        yield event
