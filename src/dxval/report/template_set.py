"""The report's template set: shipped templates, a company's own folder over them, its digest.

The templates and CSS ship inside the package (``dxval/report/templates``,
the repository's top-level ``templates/``). A manufacturer replaces any of
them with a folder of its own (``validate P --templates DIR``, ``dxval report
BUNDLE --templates DIR`` or the protocol key ``report: {templates: DIR}``):
a file found in that folder is used, any other falls back to the shipped one
(jinja2 :class:`~jinja2.ChoiceLoader`; ``StrictUndefined`` and autoescape stay
on). Assets the templates reference (fonts, a logo) are looked up the same
way when the PDF is laid out.

:func:`template_set` lists every file a rendering loads, with its SHA-256,
as a sorted ``sha256sum``-style listing; the SHA-256 of that listing
identifies the template set. ``run.json`` records it under ``templates``
and the methods section shows it, so an auditor knows which template
rendered the evidence. A template that fails (syntax error, undefined
variable) is a :class:`TemplateError` (exit 2) naming the file and line.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlparse

import jinja2
import jinja2.meta

from dxval.errors import UsageError
from dxval.report.formatting import plural

__all__ = [
    "MONITORING_ROOTS",
    "REPORT_ROOTS",
    "SHIPPED",
    "TemplateError",
    "TemplateFile",
    "TemplateSet",
    "check_template_folder",
    "template_environment",
    "template_error",
    "template_set",
    "url_fetcher",
]

#: The shipped templates, CSS and fonts (package data; ``templates/`` in the repository).
SHIPPED = Path(__file__).parent / "templates"
#: The template the report renditions start from.
REPORT_ROOTS = ("report.html",)
#: The template the monitoring report starts from (``dxval monitor``).
MONITORING_ROOTS = ("monitoring.html",)
_TEXT_SUFFIXES = (".html", ".md", ".css")
#: Relative references to assets in templates and CSS: ``url(...)``, ``src=``, ``href=``.
_ASSET = re.compile(r"""url\(\s*["']?([^"')\s]+)["']?\s*\)|(?:src|href)\s*=\s*["']([^"'{}]+)["']""")


class TemplateError(UsageError):
    """A report template that cannot be rendered: the message names file and line (exit 2)."""


@dataclass(frozen=True, slots=True)
class TemplateFile:
    """One file of the template set: its name in the set, SHA-256, and where it came from."""

    name: str
    sha256: str
    custom: bool


@dataclass(frozen=True, slots=True)
class TemplateSet:
    """The files a rendering loads, from a custom folder over the shipped templates."""

    folder: Path | None
    files: tuple[TemplateFile, ...]

    @property
    def listing(self) -> str:
        """``sha256sum``-style listing (``<hex>  <name>``), sorted by name."""
        return "".join(f"{item.sha256}  {item.name}\n" for item in self.files)

    @property
    def sha256(self) -> str:
        """SHA-256 of :attr:`listing`: the identity of the template set."""
        return hashlib.sha256(self.listing.encode("utf-8")).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        """The ``templates`` entry of ``run.json``."""
        return {
            "folder": None if self.folder is None else str(self.folder),
            "sha256": self.sha256,
            "files": [item.name for item in self.files],
            "custom": [item.name for item in self.files if item.custom],
            "listing": self.listing.splitlines(),
        }


def check_template_folder(folder: str | Path | None, *, where: str = "--templates") -> Path | None:
    """The custom template folder as an absolute path, or ``None`` for the shipped set.

    Raises
    ------
    UsageError
        ``folder`` is not a directory (exit 2).
    """
    if folder is None:
        return None
    path = Path(folder).absolute()
    if not path.is_dir():
        raise UsageError(f"{where} {folder}: got no such folder, expected a folder of templates")
    return path


def _markdown_cell(value: object) -> str:
    """Text safe inside a Markdown table cell: pipes escaped, line breaks as spaces."""
    return str(value).replace("|", "\\|").replace("\n", " ")


def _search_path(folder: Path | None) -> list[Path]:
    return [SHIPPED] if folder is None else [folder, SHIPPED]


def template_environment(folder: Path | None = None) -> jinja2.Environment:
    """The jinja2 environment of the report: ``folder`` over the shipped templates.

    Autoescape is on for ``.html`` templates (a case ID or requirement text can
    never inject markup) and off for Markdown (``.md``); undefined names fail.
    """
    loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(path) for path in _search_path(folder)])
    environment = jinja2.Environment(
        loader=loader,
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["cell"] = _markdown_cell
    # counts in words: {{ n | plural("case") }} → "1 case", "3 cases" (never "case(s)")
    environment.filters["plural"] = plural
    return environment


def _locate(name: str, folder: Path | None) -> Path | None:
    for base in _search_path(folder):
        candidate = base / name
        if candidate.is_file():
            return candidate
    return None


def _assets(source: str, referrer: str) -> Iterable[str]:
    """Relative asset names referenced by a template or stylesheet, relative to the set."""
    for match in _ASSET.finditer(source):
        reference = match.group(1) or match.group(2)
        if urlparse(reference).scheme or reference.startswith(("#", "/")):
            continue
        parent = PurePosixPath(referrer).parent
        # CSS is included inline into report.html, so its references resolve from the root.
        base = PurePosixPath() if referrer.endswith(".css") else parent
        yield str(base / reference)


def template_set(folder: Path | None = None, roots: Iterable[str] = REPORT_ROOTS) -> TemplateSet:
    """Every file a rendering from ``roots`` loads: templates, includes, assets.

    Includes are followed statically (:func:`jinja2.meta.find_referenced_templates`);
    a template with a dynamic include brings in every template of the set.

    Raises
    ------
    TemplateError
        A custom template does not parse (syntax error): file and line named.
    """
    try:
        return _template_set(folder, roots)
    except jinja2.TemplateSyntaxError as error:
        raise template_error(error, folder) or error from None


def _template_set(folder: Path | None, roots: Iterable[str]) -> TemplateSet:
    environment = template_environment(folder)
    found: dict[str, Path] = {}
    pending = list(roots)
    while pending:
        name = pending.pop()
        if name in found:
            continue
        path = _locate(name, folder)
        if path is None:
            continue  # a missing include fails loudly when rendered
        found[name] = path
        if path.suffix in _TEXT_SUFFIXES:  # fonts and images are listed, not parsed
            source = path.read_text(encoding="utf-8")
            pending.extend(_assets(source, name))
            pending.extend(_references(environment, source, name, path))
    files = tuple(
        TemplateFile(
            name,
            hashlib.sha256(found[name].read_bytes()).hexdigest(),
            folder is not None and _is_within(found[name], folder),
        )
        for name in sorted(found)
    )
    return TemplateSet(folder, files)


def _is_within(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def _references(environment: jinja2.Environment, source: str, name: str, path: Path) -> list[str]:
    try:
        parsed = environment.parse(source, name=name, filename=str(path))
    except jinja2.TemplateSyntaxError as error:
        raise TemplateError(
            f"{path}:{error.lineno}: template syntax error: {error.message}"
        ) from None
    references = list(jinja2.meta.find_referenced_templates(parsed))
    if None in references:
        return sorted(environment.list_templates(extensions=("html", "css", "md")))
    return [reference for reference in references if reference is not None]


def _location(error: Exception) -> tuple[str, int] | None:
    """Template file and line where ``error`` arose (innermost template frame)."""
    if isinstance(error, jinja2.TemplateSyntaxError):
        return (error.filename or error.name or "?"), error.lineno
    found = None
    frame = error.__traceback__
    while frame is not None:
        filename = frame.tb_frame.f_code.co_filename
        if filename.endswith(_TEXT_SUFFIXES):
            found = filename, frame.tb_lineno
        frame = frame.tb_next
    return found


def template_error(error: jinja2.TemplateError, folder: Path | None) -> TemplateError | None:
    """A :class:`TemplateError` naming file and line, when a custom template failed.

    jinja2 rewrites tracebacks so that template frames carry the template's
    file name and line; the innermost such frame is named. A failure in a
    shipped template is dxval's bug, not the user's: ``None`` is returned and
    the caller re-raises the original error (an internal error, exit 70).
    """
    location = _location(error)
    if folder is None or location is None or not _is_within(Path(location[0]), folder):
        return None
    where = f"{location[0]}:{location[1]}"
    if isinstance(error, jinja2.TemplateSyntaxError):
        return TemplateError(f"{where}: template syntax error: {error.message}")
    kind = "undefined variable" if isinstance(error, jinja2.UndefinedError) else "error"
    return TemplateError(f"{where}: template {kind}: {error}")


def _fallback_url(url: str, folder: Path | None) -> str:
    """``url`` itself, or the shipped file's URL when ``folder`` lacks the file it names."""
    parsed = urlparse(url)
    if folder is None or parsed.scheme != "file":
        return url
    path = Path(unquote(parsed.path))
    if path.exists() or not _is_within(path, folder):
        return url
    return (SHIPPED / path.resolve().relative_to(folder.resolve())).as_uri()


def url_fetcher(folder: Path | None) -> Any:
    """A WeasyPrint URL fetcher: a file missing from ``folder`` is taken from the shipped set."""
    from weasyprint import urls

    if hasattr(urls, "URLFetcher"):  # WeasyPrint >= 66: a fetcher class

        class Fetcher(urls.URLFetcher):
            def fetch(self, url: str, headers: Any = None) -> Any:
                return super().fetch(_fallback_url(url, folder), headers)

        return Fetcher()

    def fetch(url: str) -> Any:
        return urls.default_url_fetcher(_fallback_url(url, folder))

    return fetch
