"""Pieces of the PACS clients that need no server: multipart parsing, queries, AE titles, keys."""

from __future__ import annotations

import http.server
import threading

import pytest

from dxval.interop.dicomweb import DicomWebSource, split_multipart
from dxval.interop.dimse import DimseSource, parse_address
from dxval.interop.pull import SiteKey, load_site_key
from dxval.interop.source import PacsError, parse_query

TYPE = 'multipart/related; type="application/dicom"; boundary=XyZ'


@pytest.mark.req("DXV-PACS-001")
def test_multipart_parts_are_returned_with_their_exact_bytes() -> None:
    first, second = (
        b"DICM\r\n--Xy\r\n\x00\xff",
        b"\r\n\r\nbody",
    )  # a sender never repeats the boundary
    body = (
        b"preamble\r\n--XyZ\r\nContent-Type: application/dicom\r\n\r\n"
        + first
        + b"\r\n--XyZ\r\nContent-Type: application/dicom\r\n\r\n"
        + second
        + b"\r\n--XyZ--\r\n"
    )
    parts = split_multipart(body, TYPE)
    assert [content for _, content in parts] == [first, second]
    assert parts[0][0] == {"content-type": "application/dicom"}


@pytest.mark.req("DXV-PACS-005")
@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b"--XyZ\r\n\r\nabc", TYPE, "no closing delimiter"),
        (b"abc", "application/dicom", "expected multipart/related with a boundary"),
        (b"nothing here", TYPE, "no multipart delimiter found"),
    ],
)
def test_malformed_multipart_is_refused(body: bytes, content_type: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        split_multipart(body, content_type)


@pytest.mark.req("DXV-PACS-005")
def test_queries_are_dicom_keywords_with_the_modality_alias() -> None:
    assert parse_query("Modality=CR&StudyDate=20240101-20241231") == {
        "ModalitiesInStudy": "CR",
        "StudyDate": "20240101-20241231",
    }
    with pytest.raises(PacsError, match="got key 'Modalty' expected a DICOM keyword"):
        parse_query("Modalty=CR")
    with pytest.raises(PacsError, match="expected KEY=VALUE"):
        parse_query("Modality")
    with pytest.raises(PacsError, match="twice"):
        parse_query("StudyDate=1&StudyDate=2")


@pytest.mark.req("DXV-PACS-005")
def test_addresses_urls_and_ae_titles_are_checked_before_connecting() -> None:
    assert parse_address("pacs.example:104") == ("pacs.example", 104)
    with pytest.raises(PacsError, match="expected HOST:PORT"):
        parse_address("pacs.example")
    with pytest.raises(PacsError, match="expected 1-16 ASCII characters"):
        DimseSource("h", 104, calling_aet="A" * 17, called_aet="PACS")
    with pytest.raises(PacsError, match="expected an http:// or https://"):
        DicomWebSource("ftp://pacs.example/dicom-web")
    with pytest.raises(PacsError, match="credentials in the URL are refused"):
        DicomWebSource("https://user:secret@pacs.example/dicom-web")


@pytest.mark.req("DXV-PACS-002")
def test_pseudonyms_are_hmac_sha256_of_the_uid_under_the_key() -> None:
    import hashlib
    import hmac

    key = load_site_key(None, {"DXVAL_SITE_KEY": "00" * 32})
    expected = hmac.new(bytes(32), b"dxval:case:1.2.3", hashlib.sha256).hexdigest()[:20]
    assert key.case_id("1.2.3") == "P" + expected
    assert key.case_id("1.2.3") != key.case_id("1.2.4")
    assert SiteKey(b"\x01" * 32).case_id("1.2.3") != key.case_id("1.2.3")
    assert "00" * 32 not in repr(key)
    with pytest.raises(Exception, match="not hexadecimal"):
        load_site_key(None, {"DXVAL_SITE_KEY": "zz" * 32})


class _TruncatingOrigin(http.server.BaseHTTPRequestHandler):
    """A QIDO-RS origin that says it left matches out (PS3.18 Warning 299)."""

    def do_GET(self) -> None:
        body = b'[{"0020000D": {"vr": "UI", "Value": ["1.2.3"]}}]'
        self.send_response(200)
        self.send_header("Content-Type", "application/dicom+json")
        self.send_header(
            "Warning", '299 origin: "There are additional results that can be requested"'
        )
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        """Quiet."""


@pytest.mark.req("DXV-PACS-005")
def test_a_truncated_qido_answer_is_an_error_not_a_smaller_test_set() -> None:
    server = http.server.HTTPServer(("127.0.0.1", 0), _TruncatingOrigin)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        source = DicomWebSource(f"http://127.0.0.1:{server.server_address[1]}/dicom-web")
        with pytest.raises(PacsError, match="returned only part of the matches"):
            source.find_studies({"StudyDate": "20260101"})
    finally:
        server.shutdown()
        server.server_close()
