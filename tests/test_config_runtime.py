"""The configuration fixes, run: a fixed module keeps the old literal while the variable is
unset and reads it when set; a request the timeout fix touched gives up on a loopback
server that never answers, where the original hangs."""

from __future__ import annotations

import http.server
import shutil
import socket
import ssl
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from prodlint.config import Config
from prodlint.engine import Checker
from prodlint.fixer import fix_text
from prodlint.registry import all_rules

RULES = [rule for code, rule in all_rules().items() if code.startswith("PRD4")]

SERVICES = textwrap.dedent("""
    USERS_API_URL = "https://users.internal/v1"
    CACHES = {"default": {"LOCATION": "redis://cache.internal:6379/1"}}


    class BillingClient:
        BASE_URL = "https://billing.internal/api"


    def connect(host="http://localhost:8080"):
        return host


    def endpoint(requests):
        return requests.get("https://rates.internal/latest", timeout=5)
""")
READ_BACK = (
    "import services\n"
    "class R:\n"
    "    def get(self, url, timeout): return url\n"
    "print(services.USERS_API_URL, services.CACHES['default']['LOCATION'],"
    " services.BillingClient.BASE_URL, services.connect(), services.endpoint(R()))\n"
)
OLD = [
    "https://users.internal/v1",
    "redis://cache.internal:6379/1",
    "https://billing.internal/api",
    "http://localhost:8080",
    "https://rates.internal/latest",
]
VARIABLES = [
    "USERS_API_URL",
    "CACHES_LOCATION",
    "BILLING_CLIENT_BASE_URL",
    "SERVICE_URL",
    "RATES_URL",
]


def run(
    folder: Path, code: str, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=folder,
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_safe_url_fix_keeps_the_literal_until_the_variable_is_set(tmp_path: Path) -> None:
    checker = Checker(Config(), rules=RULES)
    fixed = fix_text(SERVICES, "services.py", checker, unsafe=False)
    assert sorted({f.code for f in fixed.applied}) == ["PRD401"] and len(fixed.applied) == 5
    (tmp_path / "services.py").write_text(fixed.text, encoding="utf-8")
    unset = run(tmp_path, READ_BACK, {})
    assert unset.returncode == 0, unset.stderr
    assert unset.stdout.split() == OLD
    overridden = {name: f"http://{name.lower()}.staging" for name in VARIABLES}
    set_ = run(tmp_path, READ_BACK, overridden)
    assert set_.returncode == 0, set_.stderr
    assert set_.stdout.split() == [overridden[name] for name in VARIABLES]


def test_unsafe_secret_and_debug_fixes_read_the_environment(tmp_path: Path) -> None:
    source = (
        'JWT_SECRET = "k9$Vd2!xQ7pLm4#Rt8"\nDEBUG = True\n'
        'INSTALLED_APPS = ["django.contrib.auth"]\n'
    )
    fixed = fix_text(source, "settings.py", Checker(Config(), rules=RULES), unsafe=True)
    assert {f.code for f in fixed.applied} == {"PRD402", "PRD405"}
    (tmp_path / "settings.py").write_text(fixed.text, encoding="utf-8")
    read = "import settings; print(settings.JWT_SECRET, settings.DEBUG)"
    missing = run(tmp_path, read, {})
    assert missing.returncode != 0 and "KeyError: 'JWT_SECRET'" in missing.stderr
    production = run(tmp_path, read, {"JWT_SECRET": "from-vault"})
    assert production.stdout.split() == ["from-vault", "False"]
    developer = run(tmp_path, read, {"JWT_SECRET": "from-vault", "DJANGO_DEBUG": "1"})
    assert developer.stdout.split() == ["from-vault", "True"]


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A loopback server that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    server.close()


def test_timeout_fix_gives_up_where_the_original_hangs(tmp_path: Path, silent_server: int) -> None:
    pytest.importorskip("requests")
    source = f'import requests\n\n\ndef ping():\n    return requests.get("http://127.0.0.1:{silent_server}/")\n'
    (tmp_path / "original.py").write_text(source, encoding="utf-8")
    config = Config(rule_options={"PRD403": {"timeout": 1}})
    checker = Checker(config, rules=[all_rules()["PRD403"]])
    fixed = fix_text(source, "client.py", checker, unsafe=True)
    assert "timeout=1" in fixed.text
    (tmp_path / "client.py").write_text(fixed.text, encoding="utf-8")
    call = (
        "import {0}\ntry:\n    {0}.ping()\n"
        "except Exception as error:\n    print(type(error).__name__)\n"
    )
    with pytest.raises(subprocess.TimeoutExpired):
        run(tmp_path, call.format("original"), {}, timeout=4)
    done = run(tmp_path, call.format("client"), {}, timeout=30)
    assert done.stdout.strip() == "ReadTimeout", done.stderr


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that no CA signed, and its key: made with the
    ``cryptography`` package, else the ``openssl`` command."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    try:
        import datetime
        import ipaddress

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError:
        openssl = shutil.which("openssl")
        if openssl is None:
            pytest.skip("neither the cryptography package nor openssl to make a certificate")
        subprocess.run(
            [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
            + ["-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"]
            + ["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
            check=True,
            capture_output=True,
        )
        return cert, key
    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(private, hashes.SHA256())
    )
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert, key


class Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"hello"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def https_server(tmp_path: Path) -> Iterator[int]:
    """A loopback HTTPS server whose certificate is self-signed."""
    cert, key = self_signed(tmp_path)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()
    thread.join()


def test_tls_fix_makes_an_untrusted_certificate_fail(tmp_path: Path, https_server: int) -> None:
    """Before the fix the call accepts a certificate nobody signed; after it, the same call
    refuses it: ``verify=True`` is what it says."""
    pytest.importorskip("requests")
    source = (
        "import requests\n\n\n"
        "def fetch(url):\n"
        "    return requests.get(url, timeout=10, verify=False).text\n"
    )
    (tmp_path / "original.py").write_text(source, encoding="utf-8")
    fixed = fix_text(source, "client.py", Checker(Config(), rules=RULES), unsafe=True)
    assert [f.code for f in fixed.applied] == ["PRD404"] and "verify=True" in fixed.text
    (tmp_path / "client.py").write_text(fixed.text, encoding="utf-8")
    call = (
        "import warnings, {module}\n"
        "warnings.simplefilter('ignore')\n"
        "try:\n"
        "    print({module}.fetch('https://127.0.0.1:{port}/'))\n"
        "except Exception as error:\n"
        "    print(type(error).__name__, 'CERTIFICATE_VERIFY_FAILED' in str(error))\n"
    )
    before = run(tmp_path, call.format(module="original", port=https_server), {})
    assert before.stdout.split() == ["hello"], before.stderr
    after = run(tmp_path, call.format(module="client", port=https_server), {})
    assert after.stdout.split() == ["SSLError", "True"], after.stderr


def test_aiohttp_timeout_fix_gives_up_where_the_original_hangs(
    tmp_path: Path, silent_server: int
) -> None:
    """aiohttp waits five minutes by default; the fixed session gives up after the
    configured total."""
    pytest.importorskip("aiohttp")
    source = (
        "import asyncio\n\n"
        "import aiohttp\n\n\n"
        "async def fetch(url):\n"
        "    async with aiohttp.ClientSession() as session:\n"
        "        async with session.get(url) as response:\n"
        "            return await response.text()\n\n\n"
        "def ping(url):\n"
        "    return asyncio.run(fetch(url))\n"
    )
    (tmp_path / "original.py").write_text(source, encoding="utf-8")
    config = Config(rule_options={"PRD403": {"timeout": 1}})
    fixed = fix_text(
        source, "client.py", Checker(config, rules=[all_rules()["PRD403"]]), unsafe=True
    )
    assert "aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=1))" in fixed.text
    (tmp_path / "client.py").write_text(fixed.text, encoding="utf-8")
    call = (
        "import {module}\n"
        "try:\n"
        "    {module}.ping('http://127.0.0.1:{port}/')\n"
        "except Exception as error:\n"
        "    print(isinstance(error, TimeoutError))\n"
    )
    with pytest.raises(subprocess.TimeoutExpired):
        run(tmp_path, call.format(module="original", port=silent_server), {}, timeout=4)
    done = run(tmp_path, call.format(module="client", port=silent_server), {}, timeout=30)
    assert done.stdout.strip() == "True", done.stderr
