"""A throw-away Orthanc PACS for the interop tests (Debian ``orthanc``, ``orthanc-dicomweb``).

The server runs from a temporary JSON configuration: HTTP and DICOM on
loopback ports picked free, a temporary storage folder, the DICOMweb plugin
from the Debian package, and one known modality (the test's AE title) so
that C-GET sends to it. Nothing of the system service is used.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ORTHANC = shutil.which("Orthanc") or "/usr/sbin/Orthanc"
DICOMWEB_PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")
SERVER_AET = "ORTHANC_TEST"
#: util-linux setpriv: the server gets SIGKILL when the test process dies, even when it is
#: killed itself, so no Orthanc outlives a test session.
_SETPRIV = shutil.which("setpriv")
_DIE_WITH_PARENT = (_SETPRIV, "--pdeathsig", "KILL") if _SETPRIV else ()
CLIENT_AET = "DXVAL_TEST"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def available() -> str | None:
    """Why Orthanc cannot run here, or None when it can."""
    if not Path(ORTHANC).exists():
        return f"{ORTHANC} not found (apt-get install orthanc)"
    if not DICOMWEB_PLUGIN.exists():
        return f"{DICOMWEB_PLUGIN} not found (apt-get install orthanc-dicomweb)"
    return None


@dataclass
class Orthanc:
    """A running Orthanc: its base URL, DICOM port and process."""

    folder: Path
    http_port: int
    dicom_port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        """Base URL of the REST API."""
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def dicomweb(self) -> str:
        """DICOMweb root."""
        return f"{self.url}/dicom-web"

    def upload_bytes(self, content: bytes) -> None:
        """Store one DICOM file through the REST API (Orthanc keeps the bytes as sent)."""
        request = urllib.request.Request(  # noqa: S310 (loopback test server)
            f"{self.url}/instances", data=content, method="POST"
        )
        request.add_header("Content-Type", "application/dicom")
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            response.read()

    def stop(self) -> None:
        """Kill the server (its storage is a temporary folder: nothing to shut down cleanly)."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


def start(folder: Path, *, client_port: int) -> Orthanc:
    """Start Orthanc with configuration, storage and log in ``folder``; wait until it answers."""
    folder.mkdir(parents=True, exist_ok=True)
    http_port, dicom_port = free_port(), free_port()
    configuration = {
        "Name": "dxval-test",
        "StorageDirectory": str(folder / "storage"),
        "IndexDirectory": str(folder / "storage"),
        "HttpPort": http_port,
        "DicomPort": dicom_port,
        "DicomAet": SERVER_AET,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False,
        "HttpServerEnabled": True,
        "DicomServerEnabled": True,
        "DicomCheckCalledAet": True,
        "UnknownSopClassAccepted": True,
        "StorageCompression": False,
        "Plugins": [str(DICOMWEB_PLUGIN)],
        "DicomModalities": {"dxval": [CLIENT_AET, "127.0.0.1", client_port]},
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "EnableWado": False},
    }
    config = folder / "orthanc.json"
    config.write_text(json.dumps(configuration, indent=2))
    log = (folder / "orthanc.log").open("wb")
    process = subprocess.Popen(
        [*_DIE_WITH_PARENT, ORTHANC, "--logdir=" + str(folder), str(config)],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=folder,
    )
    server = Orthanc(folder, http_port, dicom_port, process)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Orthanc exited ({process.returncode}); see {folder}/orthanc.log")
        try:
            with urllib.request.urlopen(f"{server.url}/system", timeout=2) as response:  # noqa: S310
                response.read()
            return server
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"Orthanc did not answer within 30 s; see {folder}/orthanc.log")
