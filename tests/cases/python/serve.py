"""Start one group of case servers on free loopback ports and write where they listen.

Usage: ``python serve.py GROUP READY_FILE``. Each group runs in its own
virtualenv (built by ``tests/cases/case_servers.py``) because the groups pin
incompatible versions of the same packages. Every app of the group gets its
own port; once all of them listen, the ports are written to READY_FILE as
JSON (``{"fastapi": 40123, ...}``) and the process serves until it is
terminated. Logs go to stderr.
"""

import importlib
import json
import os
import sys
import time

# Which apps each group serves; each module has ``start() -> {name: port}``.
GROUPS = {
    # fastapi 0.115.6 + starlette 0.41.3, Flask 1.1.4 + flask-jwt-extended 3.24.1, Authlib 0.15.2
    "legacy": [
        "fastapi_security",
        "starlette_requires",
        "flask_jwt_extended_app",
        "authlib_app",
    ],
    # fastapi 0.165.0, Django 5.2 + DRF 3.18.3 + simplejwt 5.3.1, Flask 3.1 + flask-jwt-extended 4.7.4
    "modern": ["fastapi_security", "drf_app", "flask_jwt_extended_app"],
    # Flask-HTTPAuth 4.2.0, jwt 0.5.4, Django 2.2 + DRF 3.10.3 + django-oauth-toolkit 1.1.0
    "old-vulnerable": ["old_flask_app", "old_django_app"],
    # the fixed twins: Flask-HTTPAuth 4.3.0, jwt 0.6.1, DRF 3.12.4, django-oauth-toolkit 1.1.2
    "old-fixed": ["old_flask_app", "old_django_app"],
    # emulations of servers no registry here ships (Spring, Echo, PostgREST, oauth2-proxy, Laravel)
    "emulations": ["emulations"],
}


def main(group, ready_file):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    ports = {}
    for module_name in GROUPS[group]:
        ports.update(importlib.import_module(module_name).start())

    partial = ready_file + ".partial"
    with open(partial, "w", encoding="utf-8") as stream:
        json.dump(ports, stream)
    os.replace(partial, ready_file)
    _exit_with_parent()


def _exit_with_parent():
    """Serve until terminated, or until the test process that started us is gone."""
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
