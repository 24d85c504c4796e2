"""Shared fixtures: real third-party servers on free loopback ports, one per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from realservers import build_fastapi_app, serve_asgi, serve_httpbin

# h11, under uvicorn, keeps at most 16 KiB of an unfinished request head by
# default. Whether a 64 KiB header trips that limit depends on how the bytes
# happen to arrive, so the main FastAPI server allows a larger head and the
# app itself answers every probe; uvicorn_defaults_url keeps the default.
LARGE_HEAD = 256 * 1024


@pytest.fixture(scope="session")
def httpbin_url() -> Iterator[str]:
    """Base URL of the httpbin Flask app served by werkzeug."""
    with serve_httpbin() as url:
        yield url


@pytest.fixture(scope="session")
def fastapi_url() -> Iterator[str]:
    """Base URL of the stock-FastAPI app, whose uvicorn takes heads up to 256 KiB."""
    with serve_asgi(
        build_fastapi_app(), h11_max_incomplete_event_size=LARGE_HEAD
    ) as url:
        yield url


@pytest.fixture(scope="session")
def uvicorn_defaults_url() -> Iterator[str]:
    """Base URL of the same app under uvicorn's default limits."""
    with serve_asgi(build_fastapi_app()) as url:
        yield url
