"""A small DICOMweb client on the standard library: QIDO-RS search, WADO-RS retrieve (PS3.18).

Searches ask for ``application/dicom+json`` (PS3.18 §10.6, F.2); retrieval
asks for ``multipart/related; type="application/dicom"; transfer-syntax=*``
(PS3.18 §8.7.3.5.2, Table 8.7.3-5: ``*`` means the origin server's stored
transfer syntax, so files come back byte for byte as stored). Responses are
parsed by :func:`split_multipart` (RFC 2046 §5.1, RFC 2387). Instances are
retrieved one by one so an interrupted pull can resume file by file.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from dxval.interop.source import InstanceRef, PacsError, StoreCallback

__all__ = ["DicomWebSource", "split_multipart"]

_DICOM_JSON = "application/dicom+json"
_ORIGINAL_SYNTAX = 'multipart/related; type="application/dicom"; transfer-syntax=*'
_STUDY_UID, _SERIES_UID, _SOP_INSTANCE_UID, _SOP_CLASS_UID = (
    "0020000D",
    "0020000E",
    "00080018",
    "00080016",
)


def _content_parameters(content_type: str) -> tuple[str, dict[str, str]]:
    kind, *parameters = (part.strip() for part in content_type.split(";"))
    values = {}
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        values[name.strip().lower()] = value.strip().strip('"')
    return kind.lower(), values


def split_multipart(body: bytes, content_type: str) -> list[tuple[dict[str, str], bytes]]:
    """Split a ``multipart/related`` body into (headers, content) parts (RFC 2046 §5.1.1).

    Raises
    ------
    ValueError
        Not multipart, no boundary, or no closing delimiter.
    """
    kind, parameters = _content_parameters(content_type)
    boundary = parameters.get("boundary")
    if not kind.startswith("multipart/") or not boundary:
        raise ValueError(f"got Content-Type {kind!r} expected multipart/related with a boundary")
    delimiter = b"--" + boundary.encode("ascii")
    # Every delimiter but a leading one follows a CRLF that belongs to it (RFC 2046 §5.1.1).
    chunks = (b"\r\n" + body if body.startswith(delimiter) else body).split(b"\r\n" + delimiter)
    if len(chunks) < 2:
        raise ValueError("no multipart delimiter found")
    chunks = chunks[1:]  # the preamble (empty when the body starts with the delimiter)
    if not chunks[-1].startswith(b"--"):
        raise ValueError("multipart body has no closing delimiter (truncated?)")
    parts = []
    for chunk in chunks[:-1]:
        _, _, rest = chunk.partition(b"\r\n")  # transport padding, then the delimiter's CRLF
        if rest.startswith(b"\r\n"):
            header_block, content = b"", rest[2:]
        else:
            header_block, separator, content = rest.partition(b"\r\n\r\n")
            if not separator:
                raise ValueError("multipart part without a header/body separator")
        headers = {}
        for line in header_block.decode("latin-1").split("\r\n"):
            name, colon, value = line.partition(":")
            if colon:
                headers[name.strip().lower()] = value.strip()
        parts.append((headers, content))
    return parts


def _first(element: Mapping[str, Any] | None) -> str | None:
    values = (element or {}).get("Value") or []
    return str(values[0]) if values else None


class DicomWebSource:
    """A DICOMweb origin server at ``base_url`` (the service root, e.g. ``.../dicom-web``).

    Parameters
    ----------
    base_url:
        ``http://`` or ``https://`` service root.
    timeout:
        Seconds per request.
    ca_file:
        PEM bundle of trusted CAs for ``https`` (default: the system's).
    token:
        Bearer token sent as ``Authorization`` (never recorded).
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 30.0,
        ca_file: Path | None = None,
        token: str | None = None,
    ) -> None:
        parsed = urllib.parse.urlsplit(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise PacsError(
                f"--dicomweb: got {base_url!r} expected an http:// or https:// service root URL"
            )
        if parsed.username or parsed.password:
            raise PacsError("--dicomweb: credentials in the URL are refused; use --token-env")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        self._token = token

    def describe(self) -> dict[str, Any]:
        """Protocol and service root (no token)."""
        return {"protocol": "DICOMweb", "url": self.base_url}

    def _get(self, path: str, *, accept: str, what: str) -> tuple[str, bytes]:
        request = urllib.request.Request(f"{self.base_url}/{path}", headers={"Accept": accept})  # noqa: S310 (scheme checked in __init__)
        if self._token:
            request.add_header("Authorization", f"Bearer {self._token}")
        where = f"DICOMweb server {self.base_url}: {what}"
        try:
            with urllib.request.urlopen(  # noqa: S310 (scheme checked in __init__)
                request, timeout=self.timeout, context=self._context
            ) as response:
                warnings = response.headers.get_all("Warning") or []
                if any("additional results" in warning.lower() for warning in warnings):
                    # PS3.18 §8.3.4.4 / 10.6.3: the origin server truncated the matches.
                    raise PacsError(
                        f"{where}: the server returned only part of the matches (Warning: "
                        "additional results); narrow the query so that no study is left out"
                    )
                return response.headers.get("Content-Type", ""), response.read()
        except urllib.error.HTTPError as error:
            raise PacsError(f"{where}: HTTP {error.code} {error.reason}") from None
        except urllib.error.URLError as error:
            reason = error.reason
            if isinstance(reason, ssl.SSLError):
                raise PacsError(f"{where}: TLS error ({reason.reason or reason})") from None
            raise PacsError(f"{where}: cannot connect ({_reason_text(reason)})") from None
        except ssl.SSLError as error:
            raise PacsError(f"{where}: TLS error ({error.reason or error})") from None
        except (TimeoutError, ConnectionError, OSError) as error:
            raise PacsError(f"{where}: connection failed ({_reason_text(error)})") from None

    def _search(self, path: str, *, what: str) -> list[dict[str, Any]]:
        content_type, body = self._get(path, accept=_DICOM_JSON, what=what)
        if not body.strip():
            return []  # 204 No Content: nothing matched
        try:
            found = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise PacsError(
                f"DICOMweb server {self.base_url}: {what}: got {content_type or 'no type'} "
                "expected a DICOM JSON array"
            ) from None
        if not isinstance(found, list):
            raise PacsError(f"DICOMweb server {self.base_url}: {what}: expected a DICOM JSON array")
        return [item for item in found if isinstance(item, dict)]

    def find_studies(self, query: Mapping[str, str]) -> list[str]:
        """QIDO-RS ``/studies`` search (PS3.18 §10.6.1); keys are DICOM keywords."""
        terms = urllib.parse.urlencode({**query, "includefield": "StudyInstanceUID"})
        found = self._search(f"studies?{terms}", what="QIDO-RS study search")
        return sorted({uid for item in found if (uid := _first(item.get(_STUDY_UID)))})

    def list_instances(self, study_uid: str) -> list[InstanceRef]:
        """QIDO-RS ``/studies/{uid}/instances`` search."""
        path = f"studies/{urllib.parse.quote(study_uid)}/instances?includefield=SOPClassUID"
        found = self._search(path, what="QIDO-RS instance search")
        instances = []
        for item in found:
            series, sop, sop_class = (
                _first(item.get(tag)) for tag in (_SERIES_UID, _SOP_INSTANCE_UID, _SOP_CLASS_UID)
            )
            if not (series and sop and sop_class):
                raise PacsError(
                    f"DICOMweb server {self.base_url}: QIDO-RS instance search: an instance "
                    "lacks SeriesInstanceUID, SOPInstanceUID or SOPClassUID"
                )
            instances.append(InstanceRef(study_uid, series, sop, sop_class))
        return sorted(instances, key=lambda ref: (ref.series_uid, ref.sop_instance_uid))

    def retrieve(self, instances: Iterable[InstanceRef], store: StoreCallback) -> None:
        """WADO-RS retrieve of each instance in its stored transfer syntax (PS3.18 §10.4)."""
        for ref in instances:
            path = "/".join(
                urllib.parse.quote(part)
                for part in (
                    "studies",
                    ref.study_uid,
                    "series",
                    ref.series_uid,
                    "instances",
                    ref.sop_instance_uid,
                )
            )
            content_type, body = self._get(path, accept=_ORIGINAL_SYNTAX, what="WADO-RS retrieve")
            try:
                parts = split_multipart(body, content_type)
            except ValueError as error:
                raise PacsError(
                    f"DICOMweb server {self.base_url}: WADO-RS retrieve: {error}"
                ) from None
            if len(parts) != 1:
                raise PacsError(
                    f"DICOMweb server {self.base_url}: WADO-RS retrieve: got {len(parts)} parts "
                    "expected 1 instance"
                )
            store(ref, parts[0][1])

    def close(self) -> None:
        """Nothing to release: each request opens and closes its connection."""


def _reason_text(reason: object) -> str:
    text = getattr(reason, "strerror", None) or str(reason)
    return str(text)
