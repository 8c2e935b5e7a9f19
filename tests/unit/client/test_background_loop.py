"""The private loop thread behind the blocking API."""

from __future__ import annotations

import asyncio

import pytest

from skein.client.background_loop import BackgroundLoop


def test_runs_coroutines_and_propagates_exceptions() -> None:
    loop = BackgroundLoop()
    try:

        async def double(x: int) -> int:
            await asyncio.sleep(0)
            return 2 * x

        async def fail() -> None:
            raise KeyError("boom")

        assert loop.run(double(21)) == 42
        with pytest.raises(KeyError, match="boom"):
            loop.run(fail())
    finally:
        loop.close()
    assert loop.closed


def test_run_after_close_is_an_error_and_close_is_idempotent() -> None:
    loop = BackgroundLoop()
    loop.close()
    loop.close()

    async def nothing() -> None:
        return None

    with pytest.raises(RuntimeError, match="closed"):
        loop.run(nothing())


def test_run_from_the_loop_thread_is_refused() -> None:
    loop = BackgroundLoop()
    try:

        async def nothing() -> None:
            return None

        async def reenter() -> None:
            loop.run(nothing())

        with pytest.raises(RuntimeError, match="its own loop thread"):
            loop.run(reenter())
    finally:
        loop.close()
