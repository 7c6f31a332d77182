"""The production settings answer `manage.py check --deploy`, from the environment alone."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "k3y-" + "x7Qp9sLm2Vw8Rt4Zn6Bc1Hd5Jf0Gk3Ya" * 2,
    "WANGGE_ID_HASH_KEY": "a-county-hash-key",
    "DJANGO_ALLOWED_HOSTS": "wangge.example.gov.cn",
}


def run(args, **env):
    # Not what a server has: the browser tests set this one for Playwright's event loop.
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    environment = {**inherited, **PRODUCTION, **env}
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=environment, capture_output=True, text=True
    )


def production_settings(*names, **env) -> dict:
    code = (
        "import django, json; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n, None) for n in {list(names)!r}}}))"
    )
    done = run(["-c", code], **env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_production_carries_no_demo():
    code = (
        "import django, json, sys; django.setup(); from django.apps import apps; "
        "from django.core.management import get_commands; "
        "print(json.dumps([apps.is_installed('demo'), 'seed_demo' in get_commands(), "
        "'create_demo_users' in get_commands(), 'faker' in sys.modules]))"
    )
    done = run(["-c", code])
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [False, False, False, False]


def test_check_deploy_finds_nothing_with_the_documented_environment():
    done = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"])
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout, done.stdout + done.stderr


def test_plain_http_intranets_turn_https_off_in_one_variable():
    names = ("SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SESSION_COOKIE_SECURE")
    assert production_settings(*names) == {
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 365 * 24 * 3600,
        "SESSION_COOKIE_SECURE": True,
    }
    assert production_settings(*names, WANGGE_HTTPS="0") == {
        "SECURE_SSL_REDIRECT": False,
        "SECURE_HSTS_SECONDS": 0,
        "SESSION_COOKIE_SECURE": False,
    }


def test_behind_a_proxy_the_client_address_is_the_hop_the_proxy_added():
    got = production_settings(
        "SECURE_PROXY_SSL_HEADER", "AXES_CLIENT_IP_CALLABLE", WANGGE_BEHIND_PROXY="1"
    )
    assert got["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert got["AXES_CLIENT_IP_CALLABLE"] == "core.authentication.client_address_behind_proxy"


def test_the_client_address_behind_a_proxy_ignores_what_the_client_forged(settings, rf):
    from core.authentication import client_address_behind_proxy

    settings.WANGGE_PROXY_COUNT = 1
    forged = rf.get("/", HTTP_X_FORWARDED_FOR="1.2.3.4, 10.9.8.7", REMOTE_ADDR="127.0.0.1")
    assert client_address_behind_proxy(forged) == "10.9.8.7"
    direct = rf.get("/", REMOTE_ADDR="127.0.0.1")
    assert client_address_behind_proxy(direct) == "127.0.0.1"
