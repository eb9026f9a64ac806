"""Which decoder turns a transfer syntax into pixels, and its version.

dxval decodes through pydicom 3's pixel backends and allows only permissively
licensed plugins (qms/notes/dicom-decoders.md records the choice):

=====================================  =======================================
transfer syntax                        plugins, in order of preference
=====================================  =======================================
uncompressed (implicit/explicit VR     pydicom's native reader (deflate: zlib)
little/big endian), deflated
RLE Lossless                           pylibjpeg-rle, then pydicom's own RLE
JPEG Baseline / Extended               pillow (libjpeg-turbo), then python-gdcm
JPEG Lossless (Process 14, SV1)        python-gdcm
JPEG-LS Lossless / Near-Lossless       python-gdcm (CharLS inside)
JPEG 2000 (lossless and lossy)         pylibjpeg-openjpeg, then pillow, python-gdcm
HTJ2K (all three)                      pylibjpeg-openjpeg
=====================================  =======================================

Deliberately excluded: pylibjpeg-libjpeg (GPL-3.0), even when installed, so
pydicom's ``pylibjpeg`` plugin is never used for the JPEG 10918 syntaxes. A
syntax with no installed allowed plugin (e.g. JPEG Lossless or JPEG-LS
without python-gdcm; 12-bit JPEG Extended, which only the GPL decoder reads;
JPEG 2000 Part 2 multi-component; JPEG XL; MPEG/HEVC video; JPIP) is a case
failure ``unsupported_transfer_syntax``.

Lossy decoders may differ by a few grey levels, so the decoder that produced
each case's pixels is recorded and can be pinned: :func:`check_decoder_pin`
raises :class:`~dxval.errors.IntegrityError` (a lock mismatch) when a file
would be decoded by a decoder other than a pinned one.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from dxval.dicom.failures import CaseFailure, ReasonCode
from dxval.errors import IntegrityError

__all__ = [
    "NATIVE",
    "PREFERRED_PLUGINS",
    "DecoderInfo",
    "check_decoder_pin",
    "decoder_for",
    "select_decoder",
    "supported_transfer_syntaxes",
]

#: Pseudo plugin name for pydicom's native (uncompressed/deflated) reader.
NATIVE = "native"

_NATIVE_SYNTAXES = (
    "1.2.840.10008.1.2",  # Implicit VR Little Endian
    "1.2.840.10008.1.2.1",  # Explicit VR Little Endian
    "1.2.840.10008.1.2.1.99",  # Deflated Explicit VR Little Endian
    "1.2.840.10008.1.2.2",  # Explicit VR Big Endian (retired)
)
_JPEG_10918 = ("1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51")
_JPEG_LOSSLESS = ("1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70")
_JPEG_LS = ("1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81")
_JPEG_2000 = ("1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91")
_HTJ2K = ("1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.4.202", "1.2.840.10008.1.2.4.203")
_RLE = "1.2.840.10008.1.2.5"

#: Transfer syntax UID → allowed pydicom plugins, best first.
PREFERRED_PLUGINS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(_NATIVE_SYNTAXES, (NATIVE,)),
    _RLE: ("pylibjpeg", "pydicom"),
    **dict.fromkeys(_JPEG_10918, ("pillow", "gdcm")),
    **dict.fromkeys(_JPEG_LOSSLESS, ("gdcm",)),
    **dict.fromkeys(_JPEG_LS, ("gdcm",)),
    **dict.fromkeys(_JPEG_2000, ("pylibjpeg", "pillow", "gdcm")),
    **dict.fromkeys(_HTJ2K, ("pylibjpeg",)),
}


@dataclass(frozen=True, slots=True)
class DecoderInfo:
    """The decoder that turns one transfer syntax into pixels.

    Attributes
    ----------
    transfer_syntax:
        Transfer Syntax UID (0002,0010).
    transfer_syntax_name:
        Its name from pydicom's UID dictionary.
    plugin:
        pydicom's plugin name (``native`` for uncompressed data).
    library:
        The distribution that does the decoding (e.g. ``pylibjpeg-openjpeg``).
    version:
        That distribution's installed version.
    lossy:
        Whether the transfer syntax may be lossy (so decoders may differ).
    """

    transfer_syntax: str
    transfer_syntax_name: str
    plugin: str
    library: str
    version: str
    lossy: bool

    @property
    def spec(self) -> str:
        """``library==version``, the form used in pins and lock files."""
        return f"{self.library}=={self.version}"

    def to_dict(self) -> dict[str, str | bool]:
        """JSON-safe mapping of the fields plus ``spec``."""
        return {**asdict(self), "spec": self.spec}


def _library(plugin: str, transfer_syntax: str) -> str:
    """The distribution behind ``plugin`` for ``transfer_syntax``."""
    if plugin in (NATIVE, "pydicom"):
        return "pydicom"
    if plugin == "pylibjpeg":
        return "pylibjpeg-rle" if transfer_syntax == _RLE else "pylibjpeg-openjpeg"
    if plugin == "gdcm":
        return "python-gdcm"
    return plugin


@functools.lru_cache(maxsize=32)
def _installed_version(distribution: str) -> str:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "unknown"


@functools.lru_cache(maxsize=64)
def _available_plugins(transfer_syntax: str) -> tuple[str, ...]:
    from pydicom.pixels import get_decoder

    try:
        return tuple(get_decoder(transfer_syntax).available_plugins)
    except NotImplementedError:
        return ()


def select_decoder(transfer_syntax: str, *, bits_stored: int | None = None) -> DecoderInfo:
    """The allowed decoder that dxval uses for ``transfer_syntax`` in this environment.

    ``bits_stored`` (0028,0101) matters for JPEG Baseline/Extended: pillow and
    python-gdcm's wheels decode 8-bit JPEG only, so 12-bit JPEG Extended is
    unsupported (its decoder, pylibjpeg-libjpeg, is GPL-3.0).

    Raises
    ------
    CaseFailure
        ``unsupported_transfer_syntax`` when no allowed plugin is installed or
        the syntax is not an image-pixel syntax pydicom can decode.
    """
    from pydicom.uid import UID

    uid = UID(str(transfer_syntax))
    preferred = PREFERRED_PLUGINS.get(str(uid))
    if preferred is None:
        raise CaseFailure(
            ReasonCode.UNSUPPORTED_TRANSFER_SYNTAX,
            f"transfer syntax {uid} ({uid.name}) has no allowed decoder in dxval",
        )
    available = (NATIVE,) if preferred == (NATIVE,) else _available_plugins(str(uid))
    if bits_stored is not None and bits_stored > 8 and str(uid) in _JPEG_10918:
        raise CaseFailure(
            ReasonCode.UNSUPPORTED_TRANSFER_SYNTAX,
            f"transfer syntax {uid} ({uid.name}) with {bits_stored}-bit samples: pillow and "
            "python-gdcm decode 8-bit JPEG only; the 12-bit decoder pylibjpeg-libjpeg is GPL-3.0",
        )
    for plugin in preferred:
        if plugin in available:
            library = _library(plugin, str(uid))
            return DecoderInfo(
                transfer_syntax=str(uid),
                transfer_syntax_name=uid.name,
                plugin=plugin,
                library=library,
                version=_installed_version(library),
                lossy=uid.is_compressed and not _is_lossless(str(uid)),
            )
    needed = ", ".join(_library(plugin, str(uid)) for plugin in preferred)
    raise CaseFailure(
        ReasonCode.UNSUPPORTED_TRANSFER_SYNTAX,
        f"transfer syntax {uid} ({uid.name}) needs one of: {needed} (none installed)",
    )


def _is_lossless(transfer_syntax: str) -> bool:
    lossless = (
        _RLE,
        *_JPEG_LOSSLESS,
        "1.2.840.10008.1.2.4.80",
        "1.2.840.10008.1.2.4.90",
        "1.2.840.10008.1.2.4.201",
        "1.2.840.10008.1.2.4.202",
    )
    return transfer_syntax in lossless


def supported_transfer_syntaxes() -> dict[str, DecoderInfo | str]:
    """Every syntax dxval knows → its decoder here, or why it is unsupported."""
    table: dict[str, DecoderInfo | str] = {}
    for uid in PREFERRED_PLUGINS:
        try:
            table[uid] = select_decoder(uid)
        except CaseFailure as failure:
            table[uid] = failure.message
    return table


def decoder_for(path: Path | str) -> DecoderInfo:
    """The decoder that would decode the DICOM file at ``path`` (header read only).

    Raises
    ------
    CaseFailure
        ``unreadable``, ``not_dicom``, ``invalid_header`` (no Transfer Syntax
        UID) or ``unsupported_transfer_syntax``.
    """
    from dxval.dicom.reader import read_header

    dataset = read_header(Path(path))
    bits = dataset.get("BitsStored")
    return select_decoder(
        str(dataset.file_meta.TransferSyntaxUID),
        bits_stored=int(bits) if isinstance(bits, int) else None,
    )


def check_decoder_pin(
    decoder: DecoderInfo, pinned: Mapping[str, str] | Collection[str] | str, *, where: str
) -> None:
    """Raise a lock mismatch unless ``decoder`` is one of the ``pinned`` decoders.

    Uncompressed and deflated data (plugin ``native``) involve no codec and
    always pass; their reader is pinned by the recorded pydicom version.

    Parameters
    ----------
    decoder:
        The decoder that decoded (or would decode) a file.
    pinned:
        The protocol's ``model.decoders`` mapping (distribution → exact
        version), or ``library`` / ``library==version`` strings; the decoder
        must match one of them.
    where:
        What is being checked (e.g. the case ID and file), for the message.

    Raises
    ------
    IntegrityError
        Exit code 3: the decoder differs from every pin.
    """
    if decoder.plugin == NATIVE:
        return
    if isinstance(pinned, Mapping):
        pins: tuple[str, ...] = tuple(f"{name}=={value}" for name, value in pinned.items())
    else:
        pins = (pinned,) if isinstance(pinned, str) else tuple(pinned)
    for pin in pins:
        library, _, wanted_version = pin.partition("==")
        if library.strip().lower() == decoder.library.lower() and (
            not wanted_version or wanted_version.strip() == decoder.version
        ):
            return
    raise IntegrityError(
        f"{where}: decoder mismatch: {decoder.transfer_syntax_name} would be decoded by "
        f"{decoder.spec}, expected one of {', '.join(pins) or '(no decoder pinned)'}"
    )
