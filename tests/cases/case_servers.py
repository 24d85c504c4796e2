"""The servers of shared/cases/README.md, started on free loopback ports for the case tests.

Three ecosystems, one process per group of cases:

- Python: each group pins its own versions of the same frameworks, so each
  runs in a virtualenv of its own, built on first use and cached under
  ``.cache/case-envs/<group>-<hash of its requirements>`` in the repository
  (git-ignored); ``tests/cases/python/serve.py GROUP`` starts every app of the
  group on a port of its own.
- Node: one npm project, ``tests/cases/node``, installed with ``npm ci``
  from its lock file; ``server.js`` starts every app.
- nginx: the Debian package's binary with a configuration written per run.

Each server writes the ports it listens on to a "ready file"; the harness
waits for it with a deadline, and terminates the process at the end.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

CASES_DIR = Path(__file__).resolve().parent
REPO = CASES_DIR.parents[1]
CACHE = REPO / ".cache" / "case-envs"
NODE_DIR = CASES_DIR / "node"
LOOPBACK = "127.0.0.1"
START_TIMEOUT = 60.0
INSTALL_TIMEOUT = 600.0


class CaseServerError(RuntimeError):
    """A case server could not be installed or started; the message says why."""


@dataclass(frozen=True)
class PythonGroup:
    """A virtualenv pinning one set of versions and the apps ``serve.py`` starts in it.

    ``pip`` pins the pip that installs the rest when a pinned package has
    metadata that current pip refuses (jwt 0.5.4 declares ``cryptography
    (<3.*,>=2.2.2)``); ``None`` installs with the running interpreter's pip.
    """

    name: str
    requirements: tuple[str, ...]
    pip: str | None = None
    # The project's own virtualenv (the running interpreter) serves the group.
    own_env: bool = False

    @property
    def key(self) -> str:
        text = "\n".join([sys.version, self.pip or "", *self.requirements])
        return f"{self.name}-{hashlib.sha256(text.encode()).hexdigest()[:12]}"


_OLD_STACK = (
    "flask==2.0.3",
    "werkzeug==2.0.3",
    "django==2.2.28",
    "oauthlib==2.1.0",
    "setuptools<70",
)

PYTHON_GROUPS = {
    group.name: group
    for group in (
        PythonGroup(
            "legacy",
            (
                "fastapi==0.115.6",
                "starlette==0.41.3",
                "uvicorn==0.34.0",
                "flask==1.1.4",
                "werkzeug==1.0.1",
                "flask-jwt-extended==3.24.1",
                "pyjwt==1.7.1",
                "itsdangerous==1.1.0",
                "jinja2==2.11.3",
                "markupsafe==2.0.1",
                "authlib==0.15.2",
            ),
        ),
        PythonGroup(
            "modern",
            (
                "fastapi==0.165.0",
                "uvicorn==0.34.0",
                "django==5.2.19",
                "djangorestframework==3.18.3",
                "djangorestframework-simplejwt==5.3.1",
                "flask==3.1.3",
                "flask-jwt-extended==4.7.4",
                "pyjwt==2.15.1",
            ),
        ),
        PythonGroup(
            "old-vulnerable",
            (
                *_OLD_STACK,
                "flask-httpauth==4.2.0",
                "jwt==0.5.4",
                "djangorestframework==3.10.3",
                "django-oauth-toolkit==1.1.0",
            ),
            pip="pip<24.1",
        ),
        PythonGroup(
            "old-fixed",
            (
                *_OLD_STACK,
                "flask-httpauth==4.3.0",
                "jwt==0.6.1",
                "djangorestframework==3.12.4",
                "django-oauth-toolkit==1.1.2",
            ),
            pip="pip<24.1",
        ),
        PythonGroup("emulations", (), own_env=True),
    )
}


@dataclass
class RunningServer:
    """A server process and the ports its apps listen on."""

    name: str
    process: subprocess.Popen[bytes]
    ports: dict[str, int]
    log: Path
    cleanup: list[Path] = field(default_factory=list)

    def url(self, app: str) -> str:
        """The base URL of one app of the server."""
        return f"http://{LOOPBACK}:{self.ports[app]}"

    def stop(self) -> None:
        """Terminate the process (and kill it if it lingers)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path``, so that xdist workers build a cache once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(argv: list[str], what: str, cwd: Path | None = None) -> None:
    try:
        done = subprocess.run(
            argv,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise CaseServerError(
            f"{what}: no result within {INSTALL_TIMEOUT:g} s"
        ) from exc
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise CaseServerError(
            f"{what} failed (exit {done.returncode}): {' '.join(argv)}\n{tail}"
        )


def python_env(group: PythonGroup) -> Path:
    """The interpreter of ``group``'s virtualenv, building it on first use."""
    if group.own_env:
        return Path(sys.executable)
    env_dir = CACHE / group.key
    python = env_dir / "bin" / "python"
    ready = env_dir / ".complete"
    with _locked(CACHE / f"{group.key}.lock"):
        if ready.exists():
            return python
        shutil.rmtree(env_dir, ignore_errors=True)
        _run(
            [sys.executable, "-m", "venv", "--without-pip", str(env_dir)],
            f"creating the {group.name} virtualenv",
        )
        # The running pip installs into the new env: no ensurepip, no network for pip itself.
        outer_pip = [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ]
        if group.pip is None:
            _run(
                [*outer_pip, *group.requirements],
                f"installing the {group.name} requirements",
            )
        else:
            _run(
                [*outer_pip, group.pip],
                f"installing {group.pip} into the {group.name} virtualenv",
            )
            inner_pip = [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ]
            _run(
                [*inner_pip, *group.requirements],
                f"installing the {group.name} requirements",
            )
        ready.write_text("\n".join(group.requirements) + "\n", encoding="utf-8")
    return python


def node_modules() -> Path:
    """``tests/cases/node/node_modules``, installed with ``npm ci`` when the lock file changed."""
    npm = shutil.which("npm")
    if npm is None:
        raise CaseServerError("npm is not installed (tests/cases/node needs Node 20 and npm)")
    lock = NODE_DIR / "package-lock.json"
    stamp = NODE_DIR / "node_modules" / ".case-lock-sha256"
    digest = hashlib.sha256(lock.read_bytes()).hexdigest()
    with _locked(CACHE / "node.lock"):
        if not (stamp.exists() and stamp.read_text(encoding="utf-8") == digest):
            _run(
                [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                "npm ci in tests/cases/node",
                cwd=NODE_DIR,
            )
            stamp.write_text(digest, encoding="utf-8")
    return NODE_DIR / "node_modules"


def _wait_ready(
    process: subprocess.Popen[bytes], ready_file: Path, log: Path, name: str
) -> dict[str, int]:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if ready_file.exists():
            ports: dict[str, int] = json.loads(ready_file.read_text(encoding="utf-8"))
            return ports
        if process.poll() is not None:
            break
        time.sleep(0.05)
    if process.poll() is None:
        process.kill()
        process.wait(timeout=10)
    tail = "\n".join(
        log.read_text(encoding="utf-8", errors="replace").splitlines()[-20:]
    )
    raise CaseServerError(
        f"the {name} servers did not start within {START_TIMEOUT:g} s (exit {process.returncode}); log {log}:\n{tail}"
    )


def _spawn(
    argv: list[str],
    name: str,
    workdir: Path,
    cwd: Path,
    env: dict[str, str] | None = None,
) -> RunningServer:
    ready_file = workdir / f"{name}.ready.json"
    log = workdir / f"{name}.log"
    ready_file.unlink(missing_ok=True)
    with open(log, "wb") as stream:
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=stream,
            stderr=subprocess.STDOUT,
            env=env,
        )
    return RunningServer(
        name, process, _wait_ready(process, ready_file, log, name), log
    )


def start_python_group(name: str, workdir: Path) -> RunningServer:
    """Start ``serve.py`` for group ``name`` in its virtualenv."""
    group = PYTHON_GROUPS[name]
    python = python_env(group)
    script = CASES_DIR / "python" / "serve.py"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTHON", "VIRTUAL_ENV"))
    }
    return _spawn(
        [str(python), str(script), name, str(workdir / f"{name}.ready.json")],
        name,
        workdir,
        script.parent,
        env,
    )


def start_node(workdir: Path) -> RunningServer:
    """Start ``server.js`` after making sure its packages are installed."""
    node = shutil.which("node")
    if node is None:
        raise CaseServerError("node is not installed (tests/cases/node needs Node 20 and npm)")
    node_modules()
    env = {
        k: v for k, v in os.environ.items() if k != "NODE_ENV"
    }  # express-jwt's default handler shows stacks only then
    return _spawn(
        [node, "server.js", str(workdir / "node.ready.json")],
        "node",
        workdir,
        NODE_DIR,
        env,
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


NGINX_CONF = """\
{user}worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen {host}:{port};
        root {dir}/www;
        default_type application/json;
        location / {{
            auth_basic "api";
            auth_basic_user_file {dir}/htpasswd;
        }}
    }}
}}
"""


def nginx_htpasswd_line(user: str, password: str) -> str:
    """An htpasswd line in nginx's ``{SSHA}`` form (RFC 2307), salted SHA-1."""
    import base64

    salt = os.urandom(8)
    digest = hashlib.sha1(password.encode() + salt).digest()  # noqa: S324 - the format nginx reads
    return f"{user}:{{SSHA}}{base64.b64encode(digest + salt).decode()}\n"


def start_nginx(workdir: Path, users: dict[str, str]) -> RunningServer:
    """Start nginx with ``auth_basic`` in front of one static JSON file, ``/index.json``."""
    binary = shutil.which("nginx") or (
        "/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None
    )
    if binary is None:
        raise CaseServerError("nginx is not installed (Debian: apt-get install nginx)")
    root = workdir / "nginx"
    (root / "www").mkdir(parents=True, exist_ok=True)
    (root / "www" / "index.json").write_text('{"ok": true}\n', encoding="utf-8")
    (root / "htpasswd").write_text(
        "".join(nginx_htpasswd_line(u, p) for u, p in users.items()), encoding="utf-8"
    )
    # Workers switch to `nobody` when the master runs as root; they must read
    # the htpasswd file in pytest's private temporary folder.
    user = "user root;\n" if os.geteuid() == 0 else ""

    last_error = ""
    for _attempt in range(3):
        port = _free_port()
        conf = root / "nginx.conf"
        conf.write_text(
            NGINX_CONF.format(user=user, dir=root, host=LOOPBACK, port=port),
            encoding="utf-8",
        )
        log = root / "stderr.log"
        with open(log, "wb") as stream:
            process = subprocess.Popen(
                [binary, "-p", str(root), "-c", str(conf), "-g", "daemon off;"],
                stdin=subprocess.DEVNULL,
                stdout=stream,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and process.poll() is None:
            with (
                contextlib.suppress(OSError),
                socket.create_connection((LOOPBACK, port), timeout=0.5),
            ):
                return RunningServer("nginx", process, {"nginx": port}, log)
            time.sleep(0.05)
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        # Another process may have taken the port between probe and bind: retry.
        logs = [log, root / "error.log"]
        last_error = "".join(
            p.read_text(encoding="utf-8", errors="replace") for p in logs if p.exists()
        )
    raise CaseServerError(f"nginx did not start: {last_error.strip()[-800:]}")


def _get_json(url: str) -> dict[str, str]:
    import urllib.request

    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback URLs built here
        document: dict[str, str] = json.loads(response.read())
    return document


def _token(url: str) -> str:
    return _get_json(url)["token"]


class CaseServers:
    """Start each group of case servers once, on first use, and stop them all at the end.

    ``environ(group)`` gives the environment variables the targets files in
    ``tests/cases/targets`` read: ``CASE_<GROUP>_<APP>_URL`` for every app
    and the tokens minted by the servers' own mint routes.
    """

    NGINX_USERS = {"bob": "secret"}

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self._running: dict[str, RunningServer] = {}
        self._environ: dict[str, dict[str, str]] = {}
        self._failed: dict[str, str] = {}

    def environ(self, group: str) -> dict[str, str]:
        """The variables for ``group``, starting its servers if needed; CaseServerError if they cannot start."""
        if group in self._failed:
            raise CaseServerError(self._failed[group])
        if group not in self._environ:
            try:
                self._environ[group] = self._start(group)
            except CaseServerError as exc:
                self._failed[group] = str(exc)
                raise
        return self._environ[group]

    def _start(self, group: str) -> dict[str, str]:
        if group == "node":
            server = start_node(self.workdir)
        elif group == "nginx":
            server = start_nginx(self.workdir, self.NGINX_USERS)
        else:
            server = start_python_group(group, self.workdir)
        self._running[group] = server

        prefix = "CASE_" + group.upper().replace("-", "_")
        environ = {
            f"{prefix}_{app.upper()}_URL": server.url(app) for app in server.ports
        }
        environ.update(
            {
                f"{prefix}_{name}": value
                for name, value in self._tokens(group, server).items()
            }
        )
        return environ

    def _tokens(self, group: str, server: RunningServer) -> dict[str, str]:
        """Tokens signed by the servers themselves: valid ones for 10 minutes, expired ones 60 s ago."""
        if group in ("legacy", "modern"):
            fje = server.url("flask_jwt_extended")
            tokens = {
                "FJE_TOKEN": _token(f"{fje}/mint?s=600"),
                "FJE_EXPIRED": _token(f"{fje}/mint?s=-60"),
            }
            if group == "modern":
                drf = server.url("drf")
                tokens |= {
                    "JWT_TOKEN": _token(f"{drf}/jwt-mint/?s=600"),
                    "JWT_EXPIRED": _token(f"{drf}/jwt-mint/?s=-60"),
                }
            return tokens
        if group in ("old-vulnerable", "old-fixed"):
            flask = server.url("flask")
            return {
                "JWT_TOKEN": _token(f"{flask}/jwt-mint?s=600"),
                "JWT_EXPIRED": _token(f"{flask}/jwt-mint?s=-60"),
            }
        if group == "emulations":
            mint = server.url("emulations") + "/mint"
            return {
                "SPRING_ADMIN": _token(f"{mint}?sub=alice&role=ADMIN"),
                "SPRING_USER": _token(f"{mint}?sub=bob&role=USER"),
                "SPRING_EXPIRED": _token(f"{mint}?sub=alice&role=ADMIN&s=-60"),
                "ECHO_TOKEN": _token(f"{mint}?sub=bob"),
                "ECHO_EXPIRED": _token(f"{mint}?sub=bob&s=-60"),
                "POSTGREST_TOKEN": _token(f"{mint}?sub=bob&role=web_user"),
                "POSTGREST_EXPIRED": _token(f"{mint}?sub=bob&role=web_user&s=-60"),
                "POSTGREST_UNKNOWN_ROLE": _token(f"{mint}?sub=bob&role=nosuchrole"),
            }
        if group == "node":
            mint = server.url("mint")
            return {
                "HS256_TOKEN": _token(f"{mint}/hs256?s=600"),
                "HS256_EXPIRED": _token(f"{mint}/hs256?s=-60"),
                "KEYCLOAK_ADMIN": _token(f"{mint}/keycloak?roles=admin"),
                "KEYCLOAK_USER": _token(f"{mint}/keycloak"),
                "KEYCLOAK_EXPIRED": _token(f"{mint}/keycloak?roles=admin&s=-60"),
            }
        if group == "nginx":
            return {"PASSWORD": self.NGINX_USERS["bob"]}
        return {}

    def stop(self) -> None:
        """Stop every server this object started."""
        for server in self._running.values():
            server.stop()
        self._running.clear()
