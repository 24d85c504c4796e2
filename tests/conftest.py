"""Shared fixtures: real third-party servers on free loopback ports, one per session.

pytest loads this file whenever it runs from the repository root, also for
``pytest --target=demo`` after a plain ``pip install .`` without the test
extras, so the servers' packages are imported only when a test needs them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from raw_server import RawRespond, RawServers

# h11, under uvicorn, keeps at most 16 KiB of an unfinished request head by
# default. Whether a 64 KiB header trips that limit depends on how the bytes
# happen to arrive, so the main FastAPI server allows a larger head and the
# app itself answers every probe; uvicorn_defaults_url keeps the default.
LARGE_HEAD = 256 * 1024


@pytest.fixture(scope="session")
def httpbin_url() -> Iterator[str]:
    """Base URL of the httpbin Flask app served by werkzeug."""
    from realservers import serve_httpbin

    with serve_httpbin() as url:
        yield url


@pytest.fixture(scope="session")
def fastapi_url() -> Iterator[str]:
    """Base URL of the stock-FastAPI app, whose uvicorn takes heads up to 256 KiB."""
    from realservers import build_fastapi_app, serve_asgi

    with serve_asgi(
        build_fastapi_app(), h11_max_incomplete_event_size=LARGE_HEAD
    ) as url:
        yield url


@pytest.fixture(scope="session")
def uvicorn_defaults_url() -> Iterator[str]:
    """Base URL of the same app under uvicorn's default limits."""
    from realservers import build_fastapi_app, serve_asgi

    with serve_asgi(build_fastapi_app()) as url:
        yield url


@pytest.fixture
def raw_api() -> Iterator[Callable[[RawRespond], str]]:
    """Start raw socket APIs on free ports; each answers as told and returns its base URL."""
    servers = RawServers()
    yield servers.start
    servers.stop()
