"""``dxval serve`` as a process: raw HTTP attacks on a real server, and the command's errors.

The requests are sent with :mod:`http.client`, which puts the path on the
wire exactly as written (a browser or httpx would resolve ``..`` first), so
the server itself is what refuses them.
"""

from __future__ import annotations

import http.client
import socket
from pathlib import Path

import pytest
from tests.serve.conftest import RUN_1, RUN_2, EvidenceRoot, Server

from dxval.cli import build_parser, main

ATTACKS = (
    "/../../etc/passwd",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/files/../../../../etc/passwd",
    f"/files/ASAH-EXAMPLE/{RUN_1}/../../../../../../etc/passwd",
    f"/files/ASAH-EXAMPLE/{RUN_1}/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    f"/files/ASAH-EXAMPLE/{RUN_1}/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    f"/files/ASAH-EXAMPLE/{RUN_1}/..%5c..%5c..%5cetc%5cpasswd",
    f"/files/ASAH-EXAMPLE/{RUN_2}/escape/passwd",
    f"/files/ASAH-EXAMPLE/{RUN_2}/escape",
    f"/files/ASAH-EXAMPLE/{RUN_1}/figures",
    f"/files/ASAH-EXAMPLE/{RUN_1}/",
    "/files/%2e%2e/%2e%2e/criteria.json",
)


def _request(server: Server, method: str, path: str) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


@pytest.mark.req("DXV-SERVE-005")
@pytest.mark.req("DXV-SERVE-008")
def test_traversal_encoded_dots_and_symlinks_out_of_the_root_are_404(
    served: tuple[Server, EvidenceRoot],
) -> None:
    server, evidence = served
    assert server.url.startswith("http://127.0.0.1:")  # loopback by default
    (evidence.run_2 / "escape").symlink_to("/etc", target_is_directory=True)
    status, _, body = _request(server, "GET", f"/files/ASAH-EXAMPLE/{RUN_1}/run.json")
    assert status == 200
    assert body == (evidence.run_1 / "run.json").read_bytes()
    for path in ATTACKS:
        status, headers, body = _request(server, "GET", path)
        assert status == 404, path
        assert b"root:" not in body, path
        assert "content-security-policy" in {name.lower() for name in headers}, path


@pytest.mark.req("DXV-SERVE-004")
def test_writing_methods_are_405_on_the_real_server(served: tuple[Server, EvidenceRoot]) -> None:
    server, evidence = served
    before = sorted(p.name for p in evidence.run_1.iterdir())
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        for path in ("/", f"/files/ASAH-EXAMPLE/{RUN_1}/run.json", "/../../etc/passwd"):
            status, headers, _ = _request(server, method, path)
            assert status == 405, (method, path)
            assert headers.get("allow") == "GET, HEAD"
    assert sorted(p.name for p in evidence.run_1.iterdir()) == before
    status, headers, body = _request(server, "HEAD", "/")
    assert (status, body) == (200, b"")
    assert "default-src 'none'" in headers["content-security-policy"]


@pytest.mark.req("DXV-EXIT-003")
def test_serve_refuses_a_missing_root_a_bad_port_and_a_taken_port(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", str(tmp_path / "missing")]) == 2
    assert "evidence root not found; expected a folder of bundles" in capsys.readouterr().err
    assert main(["serve", str(tmp_path), "--port", "70000"]) == 2
    assert "--port: got 70000 expected 0-65535" in capsys.readouterr().err
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        assert main(["serve", str(tmp_path), "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"--host 127.0.0.1 --port {port}: cannot listen" in err
    assert "Traceback" not in err


@pytest.mark.req("DXV-SERVE-008")
def test_loopback_is_the_default_and_other_addresses_are_told_apart() -> None:
    from dxval.serve.app import is_loopback

    arguments = build_parser().parse_args(["serve", "evidence"])
    assert (arguments.host, arguments.port) == ("127.0.0.1", 8000)
    assert is_loopback("127.0.0.1")
    assert is_loopback("::1")
    assert not is_loopback("0.0.0.0")  # noqa: S104 (only classified, never bound)
    assert not is_loopback("192.0.2.10")


@pytest.mark.req("DXV-EXIT-003")
def test_serve_without_the_extra_names_what_to_install(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.delitem(sys.modules, "dxval.serve.app", raising=False)
    monkeypatch.setitem(sys.modules, "starlette.applications", None)
    assert main(["serve", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "dxval serve needs the 'serve' extra (starlette.applications is not installed)" in err
    assert "pip install 'dxval[serve]'" in err
