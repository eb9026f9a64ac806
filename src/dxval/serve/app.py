"""The auditor's read-only web application (Starlette), and the server that runs it (uvicorn).

Safety, for every response whatever the route:

- only GET and HEAD; any other method is answered 405 before routing;
- a strict ``Content-Security-Policy`` (no script at all, style only from
  the served stylesheet, no framing), ``nosniff``, no referrer, no caching;
- bundle files are served only from bundles in the index, by a path whose
  every segment is a plain name (no ``..``, ``.``, empty segment or
  backslash, after URL decoding), with no symbolic link on the way, and
  whose resolved location stays inside the bundle and the evidence root;
  folders are never listed. Bundle files get a stricter policy still
  (``sandbox``: a report's HTML runs no script even if it held one);
- every value from a bundle reaches the page through jinja2 with
  autoescaping on (case IDs and protocol text are user data).
"""

from __future__ import annotations

import ipaddress
import socket
import sys
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dxval.errors import UsageError
from dxval.serve import views
from dxval.serve.index import FAILED_VERIFY, VERIFIED, EvidenceIndex, IndexedBundle
from dxval.stats.wording import plural

#: Policy of every page: nothing but this origin's stylesheet and images; no script, no frames.
PAGE_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
#: Policy of bundle files shown inline (HTML report, SVG figures): a sandbox without scripts;
#: the report's own inline stylesheet and data: images are allowed, nothing is fetched.
FILE_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'; sandbox"
)
#: PDFs: Chromium's viewer does not open a sandboxed PDF, so no sandbox, but nothing loads.
PDF_POLICY = "default-src 'none'; frame-ancestors 'none'"
ALLOWED_METHODS = ("GET", "HEAD")
_COMMON_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
)
_TEXT_SUFFIXES = {".json", ".jsonl", ".csv", ".yaml", ".yml", ".sha256", ".txt", ".md", ".xml"}
_INLINE_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".pdf": "application/pdf",
}


class ReadOnlyGuard:
    """ASGI wrapper: refuse methods other than GET/HEAD (405) and add the security headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() != b"server"
                ]
                names = {name.lower() for name, _ in headers}
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", PAGE_POLICY.encode()))
                headers.extend(_COMMON_HEADERS)
                message = {**message, "headers": headers}
            await send(message)

        if scope["method"] not in ALLOWED_METHODS:
            response = Response(
                "405 Method Not Allowed: this view is read-only (GET and HEAD only)\n",
                status_code=405,
                media_type="text/plain",
                headers={"Allow": ", ".join(ALLOWED_METHODS)},
            )
            await response(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)


def _url(*parts: str) -> str:
    """``/a/b/c`` with every part percent-encoded (``/`` inside a part too)."""
    return "/" + "/".join(quote(part, safe="") for part in parts)


def _file_url(bundle: IndexedBundle, path: str) -> str:
    return _url("files", bundle.protocol_id, bundle.run_id) + "/" + quote(path, safe="/")


def _number(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.4f}"


def _exact(value: float | None) -> str:
    return "" if value is None else repr(value)


def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("dxval.serve", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["number"] = _number
    environment.filters["exact"] = _exact
    environment.filters["plural"] = plural
    environment.globals.update(
        url=_url, file_url=_file_url, VERIFIED=VERIFIED, FAILED_VERIFY=FAILED_VERIFY
    )
    return environment


def resolve_bundle_file(root: Path, bundle: IndexedBundle, path: str) -> Path | None:
    """The file ``path`` (``/``-separated, already URL-decoded) inside ``bundle``, or None.

    None when a segment is empty, ``.`` or ``..``, holds a backslash or NUL,
    when any component is a symbolic link, when the target is not a regular
    file, or when its resolved location leaves the bundle or the root.
    """
    parts = path.split("/")
    if any(part in {"", ".", ".."} or "\\" in part or "\x00" in part for part in parts):
        return None
    folder = bundle.folder
    if folder.is_symlink():
        return None
    current = folder
    for part in parts:
        current = current / part
        if current.is_symlink():
            return None
    if not current.is_file():
        return None
    real_root = root.resolve()
    real_folder = folder.resolve()
    real = current.resolve()
    if not real_folder.is_relative_to(real_root) or not real.is_relative_to(real_folder):
        return None
    return real


def _page_number(request: Request) -> int:
    text = request.query_params.get("page", "1")
    return int(text) if text.isdigit() and len(text) < 7 else 1


def create_app(index: EvidenceIndex, *, rescan_seconds: float | None = 30.0) -> ASGIApp:
    """The read-only application over ``index``; rescans the root every ``rescan_seconds``.

    ``rescan_seconds`` None: no background rescan (tests refresh the index themselves).
    """
    environment = _environment()
    root = index.root

    def render(name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        template = environment.get_template(name)
        return HTMLResponse(template.render(root=str(root), **context), status_code=status_code)

    def not_found(what: str) -> HTTPException:
        return HTTPException(404, what)

    def home(request: Request) -> Response:
        rows, unreadable = views.protocols_page(index)
        return render("protocols.html", rows=rows, unreadable=unreadable, bundles=index.count())

    def protocol(request: Request) -> Response:
        protocol_id = request.path_params["protocol_id"]
        found = views.protocol_page(index, protocol_id, _page_number(request))
        if found is None:
            raise not_found(f"no run of protocol {protocol_id} in the index")
        runs, paging = found
        return render("protocol.html", protocol_id=protocol_id, runs=runs, paging=paging)

    def run(request: Request) -> Response:
        bundle = index.bundle(request.path_params["protocol_id"], request.path_params["run_id"])
        if bundle is None:
            raise not_found("no such run in the index")
        return render("run.html", page=views.run_page(index, bundle), bundle=bundle)

    def requirement(request: Request) -> Response:
        requirement_id = request.path_params["requirement_id"]
        page = views.requirement_page(index, requirement_id, _page_number(request))
        if page is None:
            raise not_found(f"no run evaluated requirement {requirement_id}")
        return render("requirement.html", page=page)

    def matrix(request: Request) -> Response:
        return render("matrix.html", tables=views.matrix_page(index), limit=views.MATRIX_RUNS)

    def search(request: Request) -> Response:
        query = request.query_params.get("q", "")[:200]
        return render("search.html", query=query, hits=index.search(query))

    def bundle_file(request: Request) -> Response:
        bundle = index.bundle(request.path_params["protocol_id"], request.path_params["run_id"])
        path = request.path_params["path"]
        target = None if bundle is None else resolve_bundle_file(root, bundle, path)
        if target is None:
            raise not_found("no such file in an indexed bundle")
        return _file_response(target)

    def stylesheet(request: Request) -> Response:
        css = resources.files("dxval.serve").joinpath("templates/serve.css").read_bytes()
        return Response(css, media_type="text/css; charset=utf-8")

    def favicon(request: Request) -> Response:
        return Response(status_code=204)  # browsers ask for one; there is none

    def error_page(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        return render("error.html", status_code=error.status_code, error=error)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        stop = threading.Event()
        if rescan_seconds is not None:
            threading.Thread(
                target=_rescan, args=(index, rescan_seconds, stop), daemon=True
            ).start()
        try:
            yield
        finally:
            stop.set()

    application = Starlette(
        routes=[
            Route("/", home),
            Route("/protocols/{protocol_id}", protocol),
            Route("/runs/{protocol_id}/{run_id}", run),
            Route("/requirements/{requirement_id}", requirement),
            Route("/matrix", matrix),
            Route("/search", search),
            Route("/files/{protocol_id}/{run_id}/{path:path}", bundle_file),
            Route("/static/serve.css", stylesheet),
            Route("/favicon.ico", favicon),
        ],
        exception_handlers={HTTPException: error_page},
        lifespan=lifespan,
    )
    return ReadOnlyGuard(application)


def _file_response(target: Path) -> Response:
    suffix = target.suffix.lower()
    if suffix in _TEXT_SUFFIXES:
        media_type, disposition, policy = "text/plain; charset=utf-8", "inline", FILE_POLICY
    elif suffix in _INLINE_TYPES:
        media_type, disposition = _INLINE_TYPES[suffix], "inline"
        policy = PDF_POLICY if suffix == ".pdf" else FILE_POLICY
    else:
        media_type, disposition, policy = "application/octet-stream", "attachment", FILE_POLICY
    return FileResponse(
        target,
        media_type=media_type,
        filename=target.name,
        content_disposition_type=disposition,
        headers={"Content-Security-Policy": policy},
    )


def _rescan(index: EvidenceIndex, seconds: float, stop: threading.Event) -> None:
    while not stop.wait(seconds):
        try:
            index.refresh()
        except Exception as error:  # a failed rescan must not stop the server
            print(f"dxval serve: rescan failed ({error}); keeping the index", file=sys.stderr)


def _listen(host: str, port: int) -> socket.socket:
    try:
        family, kind, protocol, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM
        )[0]
        sock = socket.socket(family, kind, protocol)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as error:
        raise UsageError(
            f"--host {host} --port {port}: cannot listen ({error.strerror or error}); "
            "expected a free port on a local address"
        ) from error
    return sock


def is_loopback(host: str) -> bool:
    """True when every address ``host`` resolves to is a loopback address."""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False
    return all(
        ipaddress.ip_address(str(address).split("%")[0]).is_loopback for address in addresses
    )


def serve(
    index: EvidenceIndex,
    *,
    host: str,
    port: int,
    rescan_seconds: float | None,
    announce: Callable[[str], None],
    warn: Callable[[str], None],
) -> None:
    """Listen on ``host``:``port`` (0: any free port) and serve until interrupted.

    Raises
    ------
    UsageError
        The address cannot be listened on.
    """
    import uvicorn

    sock = _listen(host, port)
    bound = sock.getsockname()[1]
    if not is_loopback(host):
        warn(
            f"serving on {host}, not a loopback address: anyone who can reach it can read "
            "the evidence (no authentication)"
        )
    shown = f"[{host}]" if ":" in host else host
    announce(f"read-only view at http://{shown}:{bound}/ (Ctrl-C to stop)")
    config = uvicorn.Config(
        create_app(index, rescan_seconds=rescan_seconds),
        log_level="warning",
        server_header=False,
        proxy_headers=False,
    )
    uvicorn.Server(config).run(sockets=[sock])
