"""Issue 11: signatures bound to people (findings 2, 7, 8) and the adversarial bundle checklist.

The signer registry says whose key is whose; verify and report judge every
signature by its key (TRUSTED, UNKNOWN SIGNER, ROLE NOT ALLOWED, OUTSIDE
VALIDITY), never by the name typed into a key file (21 CFR 11.100, 11.70).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from dxval.cli import main
from dxval.errors import UsageError
from dxval.evidence.format import read_bundle
from dxval.evidence.signatures import (
    Meaning,
    SigningKey,
    generate_key,
    key_fingerprint,
    load_signing_key,
    read_signatures,
    sign_bundle,
)
from dxval.evidence.signatures.registry import SignerRegistry, Verdict, load_registry
from dxval.report import refresh
from dxval.report.render import SCREEN, render_html
from dxval.report.views import build_cover, build_report_view

from .integrity_helpers import events, fail_to_pass, rewrite_manifest, write_chain

WORDS = "a long enough passphrase"
#: Key name → the name typed at keygen. "Аda Author" starts with a Cyrillic А (U+0410).
TYPED = {
    "ada": "Ada Author",
    "ada2": "A. Author",  # Ada's second key, typed differently
    "bo": "Bo Approver",
    "eve": "Eve Outsider",
    "eve-as-bo": "Bo Approver",
    "lookalike": "\u0410da Author",
}


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder with every key and its ``.pub`` (made once, never modified)."""
    folder = tmp_path_factory.mktemp("keys")
    for name, typed in TYPED.items():
        generate_key(typed, folder / f"{name}.key", passphrase=WORDS)
    return folder


def _key(keys: Path, name: str) -> SigningKey:
    return load_signing_key(keys / f"{name}.key", passphrase=WORDS)


def _registry(keys: Path, *entries: tuple[str, str, list[str], str, str | None]) -> Path:
    """Write ``signers.yaml`` beside the keys: (key, registered name, roles, from, until)."""
    lines = ["signers:"]
    for key, name, roles, valid_from, valid_until in entries:
        lines += [
            f"  - name: {name}",
            f"    roles: [{', '.join(roles)}]",
            f"    public_key: {key}.key.pub",
            f"    valid_from: {valid_from}",
        ]
        if valid_until is not None:
            lines.append(f"    valid_until: {valid_until}")
    path = keys / f"signers-{hashlib.sha256(repr(entries).encode()).hexdigest()[:12]}.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


ADA = ("ada", "Ada A. Author (QA)", ["author"], "2020-01-01", None)
BO = ("bo", "Bo Approver", ["approver", "reviewer"], "2020-01-01", None)


@pytest.fixture
def rooted(sealed_bundle: Path, tmp_path: Path) -> Path:
    """A private copy of the evidence root (with its ledger); returns the bundle."""
    root = tmp_path / "evidence"
    shutil.copytree(sealed_bundle.parent.parent, root)
    return root / sealed_bundle.parent.name / sealed_bundle.name


@pytest.fixture
def signed(rooted: Path, keys: Path) -> Path:
    """The rooted bundle signed by Ada (authored) and Bo (approved)."""
    sign_bundle(rooted, _key(keys, "ada"), meaning=Meaning.AUTHORED, render=False)
    sign_bundle(rooted, _key(keys, "bo"), meaning=Meaning.APPROVED, render=False)
    return rooted


def _verify(bundle: Path, *extra: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["verify", str(bundle), *extra])
    return code, out.getvalue() + err.getvalue()


# --- finding 2: the registry ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "verdict"),
    [
        (ADA, Verdict.TRUSTED),
        (("bo", "Bo Approver", ["approver"], "2020-01-01", None), Verdict.UNKNOWN_SIGNER),
        (("ada", "Ada Author", ["reviewer"], "2020-01-01", None), Verdict.ROLE_NOT_ALLOWED),
        (("ada", "Ada Author", ["author"], "2020-01-01", "2020-12-31"), Verdict.OUTSIDE_VALIDITY),
        (("ada", "Ada Author", ["author"], "2099-01-01", None), Verdict.OUTSIDE_VALIDITY),
    ],
    ids=["trusted", "unknown", "role", "expired", "not-yet-valid"],
)
@pytest.mark.req("DXV-INTEG-005")
def test_verify_with_a_registry_judges_each_signature(
    rooted: Path, keys: Path, entry: tuple[str, str, list[str], str, str | None], verdict: Verdict
) -> None:
    sign_bundle(rooted, _key(keys, "ada"), meaning=Meaning.AUTHORED, render=False)
    registry = _registry(keys, entry)
    code, out = _verify(rooted, "--signers", str(registry))
    ada = _key(keys, "ada")
    assert f"key {key_fingerprint(ada.key_id)}" in out
    assert f": {verdict.value}" in out
    if verdict is Verdict.TRUSTED:
        assert code == 0
        assert "authored by Ada A. Author (QA)," in out  # the registry's name, not the typed one
    else:
        assert code == 3
        assert f"signature: signatures/01-authored.json ({verdict.value}: key " in out


@pytest.mark.req("DXV-INTEG-005")
def test_verify_without_a_registry_lists_signers_and_says_identity_not_checked(
    signed: Path, keys: Path
) -> None:
    code, out = _verify(signed)
    assert code == 0
    for name, meaning in (("ada", "authored"), ("bo", "approved")):
        key = _key(keys, name)
        assert (
            f"{meaning} by {TYPED[name]!r} (name as typed at keygen), key "
            f"{key_fingerprint(key.key_id)}"
        ) in out
    assert out.count("identity not checked") == 2
    assert "unsigned" not in out


@pytest.mark.req("DXV-INTEG-005")
def test_report_signature_block_shows_registry_verdicts_names_and_fingerprints(
    signed: Path, keys: Path
) -> None:
    registry = load_registry(_registry(keys, ADA))
    cover = build_cover(read_bundle(signed, signers=registry))
    ada, bo = cover.signatures
    assert (ada.name, ada.identity) == ("Ada A. Author (QA)", "TRUSTED")
    assert ada.key_id == key_fingerprint(_key(keys, "ada").key_id)
    assert (bo.name, bo.identity) == ("unregistered: Bo Approver", "UNKNOWN SIGNER")
    unchecked = build_cover(read_bundle(signed)).signatures
    assert [s.identity for s in unchecked] == ["identity not checked"] * 2


@pytest.mark.req("DXV-INTEG-005")
def test_report_command_takes_the_registry(
    signed: Path, keys: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def html_only(
        bundle: Path, *, signers: SignerRegistry | None = None, **_: object
    ) -> list[Path]:
        """The HTML rendition only (the PDFs take half a minute and show the same block)."""
        view = build_report_view(read_bundle(bundle, signers=signers))
        (bundle / "report.html").write_text(render_html(view, SCREEN))
        return [bundle / "report.html"]

    monkeypatch.setattr(refresh, "render_bundle_reports", html_only)
    registry = _registry(keys, ADA, BO)
    assert _verify(signed)[0] == 0
    code, out = _report(signed, "--signers", str(registry))
    assert code == 0, out
    html = (signed / "report.html").read_text()
    assert "Ada A. Author (QA)" in html
    assert html.count(">TRUSTED<") == 2
    assert key_fingerprint(_key(keys, "bo").key_id) in html
    assert _verify(signed, "--signers", str(registry))[0] == 0


def _report(bundle: Path, *extra: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["report", str(bundle), *extra])
    return code, out.getvalue() + err.getvalue()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("signers: [{name: X, roles: [boss], public_key: ada.key.pub, valid_from: 2020-01-01}]",
         r"roles: got \['boss'\]"),
        ("signers: [{name: X, roles: [author], public_key: none.pub, valid_from: 2020-01-01}]",
         "public key file not found"),
        ("signers: [{name: X, roles: [author], public_key: ada.key.pub}]", "missing"),
        ("signers: [{name: X, roles: [author], public_key: ada.key.pub, valid_from: 2020-01-01},"
         " {name: Y, roles: [author], public_key: ada.key.pub, valid_from: 2020-01-01}]",
         "already registered for X"),
        ("signers: [{name: X, roles: [author], public_key: edited.pub, valid_from: 2020-01-01}]",
         "does not verify"),
        ("- just a list", "expected a mapping with a list 'signers'"),
    ],
    ids=["role", "no-key-file", "no-validity", "duplicate-key", "edited-pub", "not-a-registry"],
)  # fmt: skip
@pytest.mark.req("DXV-INTEG-005")
def test_a_malformed_registry_is_exit_2(
    signed: Path, keys: Path, tmp_path: Path, text: str, message: str
) -> None:
    folder = tmp_path / "registry"
    folder.mkdir()
    shutil.copy(keys / "ada.key.pub", folder / "ada.key.pub")
    pub = json.loads((keys / "ada.key.pub").read_text())
    (folder / "edited.pub").write_text(json.dumps({**pub, "name": "Rita Approver"}))
    (folder / "signers.yaml").write_text(text + "\n")
    with pytest.raises(UsageError, match=message):
        load_registry(folder / "signers.yaml")
    assert _verify(signed, "--signers", str(folder / "signers.yaml"))[0] == 2


@pytest.mark.req("DXV-INTEG-005")
def test_the_example_registry_under_version_control_loads() -> None:
    registry = load_registry(Path(__file__).parents[2] / "qms" / "signers.yaml")
    names = {signer.name: sorted(signer.meanings) for signer in registry.signers.values()}
    assert names == {"Ada Author": ["authored"], "Rita Approver": ["approved", "reviewed"]}


# --- finding 8: separation of duties by registry identity ----------------------------------------


@pytest.mark.req("DXV-INTEG-007")
def test_a_lookalike_name_cannot_approve_when_the_registry_is_used(
    rooted: Path, keys: Path
) -> None:
    sign_bundle(rooted, _key(keys, "ada"), meaning=Meaning.AUTHORED, render=False)
    registry = _registry(keys, ("ada", "Ada Author", ["author", "approver"], "2020-01-01", None))
    lookalike = _key(keys, "lookalike")
    with pytest.raises(UsageError, match="UNKNOWN SIGNER"):
        sign_bundle(
            rooted, lookalike, meaning=Meaning.APPROVED, render=False,
            signers=load_registry(registry),
        )  # fmt: skip
    sign_bundle(rooted, lookalike, meaning=Meaning.APPROVED, render=False)  # no registry: allowed
    code, out = _verify(rooted)
    assert code == 0
    assert out.count("identity not checked") == 2
    code, out = _verify(rooted, "--signers", str(registry))
    assert code == 3
    assert "approved by unregistered key (typed '\u0410da Author')" in out
    assert "UNKNOWN SIGNER" in out


@pytest.mark.req("DXV-INTEG-007")
def test_one_person_with_two_keys_cannot_author_and_approve(rooted: Path, keys: Path) -> None:
    registry = _registry(
        keys,
        ("ada", "Ada Author", ["author"], "2020-01-01", None),
        ("ada2", "Ada  author", ["approver"], "2020-01-01", None),
    )
    sign_bundle(rooted, _key(keys, "ada"), meaning=Meaning.AUTHORED, render=False)
    with pytest.raises(UsageError, match="the approver must differ from the author"):
        sign_bundle(
            rooted, _key(keys, "ada2"), meaning=Meaning.APPROVED, render=False,
            signers=load_registry(registry),
        )  # fmt: skip


# --- finding 7: what a signature covers; removed signatures --------------------------------------


@pytest.mark.req("DXV-INTEG-006")
def test_a_signature_covers_the_outcome_and_the_required_files(signed: Path) -> None:
    record = read_signatures(signed)[1]
    run = json.loads((signed / "run.json").read_text())
    assert record.outcome == {k: run[k] for k in ("status", "exit_code", "criteria")}
    assert "run.json" in record.required_files
    assert "audit.jsonl" in record.required_files
    document = json.loads((signed / record.path).read_text())
    assert {"outcome", "required_files"} <= set(document)


@pytest.mark.req("DXV-INTEG-006")
def test_removing_a_signature_file_is_detected(signed: Path) -> None:
    (signed / "signatures" / "02-approved.json").unlink()
    rewrite_manifest(signed)
    code, out = _verify(signed)
    assert code == 3
    assert (
        "signature: signatures/02-approved.json (recorded in audit.jsonl but the file is missing)"
    ) in out


# --- the adversarial checklist ("Bundles:"), one test per class ----------------------------------


def _flip(name: str) -> Callable[[Path, Path], None]:
    def attack(bundle: Path, keys: Path) -> None:
        content = bytearray((bundle / name).read_bytes())
        content[len(content) // 2] ^= 0x01
        (bundle / name).write_bytes(bytes(content))

    return attack


def _delete(name: str) -> Callable[[Path, Path], None]:
    def attack(bundle: Path, keys: Path) -> None:
        (bundle / name).unlink()
        rewrite_manifest(bundle)

    return attack


def _rename(old: str, new: str) -> Callable[[Path, Path], None]:
    def attack(bundle: Path, keys: Path) -> None:
        (bundle / old).rename(bundle / new)
        rewrite_manifest(bundle)

    return attack


def _add(name: str, content: bytes) -> Callable[[Path, Path], None]:
    def attack(bundle: Path, keys: Path) -> None:
        (bundle / name).write_bytes(content)
        rewrite_manifest(bundle)

    return attack


def _edit_audit_and_rechain(bundle: Path, keys: Path) -> None:
    edited = events(bundle)
    edited[3]["reason"] = "edited later"
    write_chain(bundle, edited)
    rewrite_manifest(bundle)


def _drop_last(count: int) -> Callable[[Path, Path], None]:
    def attack(bundle: Path, keys: Path) -> None:
        kept = events(bundle)[:-count]
        dropped = {e["object"]["file"] for e in events(bundle)[-count:] if "file" in e["object"]}
        for name in dropped:
            (bundle / name).unlink()
        write_chain(bundle, kept)
        rewrite_manifest(bundle)

    return attack


def _reorder(bundle: Path, keys: Path) -> None:
    edited = events(bundle)
    edited[1], edited[2] = edited[2], edited[1]
    write_chain(bundle, edited)
    rewrite_manifest(bundle)


def _edit_with_manifest(name: str) -> Callable[[Path, Path], None]:
    def attack(bundle: Path, keys: Path) -> None:
        (bundle / name).write_bytes((bundle / name).read_bytes().replace(b"0.", b"0.1", 1))
        rewrite_manifest(bundle)

    return attack


def _consistent_rewrite(bundle: Path, keys: Path) -> None:
    fail_to_pass(bundle)


def _approve_instead(bundle: Path, keys: Path, key: str) -> None:
    """Strip Bo's approval and approve with ``key`` instead, in a copy outside the evidence root.

    (Inside the root, sign refuses: its ledger shows the stripped events.)
    """
    outside = bundle.parents[2] / "outside" / "bundle"
    shutil.copytree(bundle, outside)
    (outside / "signatures" / "02-approved.json").unlink()
    write_chain(outside, events(outside)[:-1])
    rewrite_manifest(outside)
    sign_bundle(outside, _key(keys, key), meaning=Meaning.APPROVED, render=False)
    shutil.rmtree(bundle)
    shutil.copytree(outside, bundle)


def _replace_signature(bundle: Path, keys: Path) -> None:
    """Only the signature file is replaced by another key's approval of the same evidence."""
    original = events(bundle)
    _approve_instead(bundle, keys, "eve")
    write_chain(bundle, original)
    rewrite_manifest(bundle)


def _claim_another_name(bundle: Path, keys: Path) -> None:
    _approve_instead(bundle, keys, "eve-as-bo")


def _author_approves(bundle: Path, keys: Path) -> None:
    _approve_instead(bundle, keys, "ada2")


def _nothing(bundle: Path, keys: Path) -> None:
    """Verify with a registry that lacks Bo's key."""


SIGNED_FILES = ["MANIFEST.sha256", "run.json", "protocol.yaml", "lock.json", "environment.json",
                "cases.csv", "metrics.json", "criteria.json", "audit.jsonl",
                "signatures/01-authored.json", "signatures/02-approved.json"]  # fmt: skip
ATTACKS: dict[str, list[tuple[str, Callable[[Path, Path], None], str]]] = {
    "flip a byte": [(name, _flip(name), name) for name in SIGNED_FILES],
    "delete, add, rename a file": [
        *[(f"delete {n}", _delete(n), n) for n in ("run.json", "audit.jsonl", "cases.csv")],
        ("delete signature", _delete("signatures/02-approved.json"), "02-approved"),
        ("add file", _add("notes.txt", b"x\n"), "notes.txt"),
        ("add evidence", _add("phi.json", b"{}\n"), "phi.json"),
        ("add signature", _add("signatures/03-approved.json", b"{}\n"), "03-approved"),
        ("rename evidence", _rename("metrics.json", "metrics-v2.json"), "metrics"),
        (
            "rename signature",
            _rename("signatures/02-approved.json", "signatures/03-approved.json"),
            "approved",
        ),
    ],
    "edit an audit line and recompute the chain": [
        ("edit + rechain", _edit_audit_and_rechain, "audit.jsonl")
    ],
    "drop the audit log's last events": [
        ("last event + its signature", _drop_last(1), "audit.jsonl"),
        ("both signatures", _drop_last(2), "audit.jsonl"),
        ("up to the sealing", _drop_last(3), "audit.jsonl"),
    ],
    "reorder events": [("swap 2 and 3", _reorder, "audit.jsonl")],
    "rewrite MANIFEST consistently": [
        *[(n, _edit_with_manifest(n), n) for n in ("metrics.json", "criteria.json", "cases.csv")],
        ("FAIL to PASS, every record recomputed", _consistent_rewrite, "evidence digest"),
    ],
    "replace a signature": [("another key's approval", _replace_signature, "02-approved")],
    "sign with one key and claim another's name": [
        ("Eve typed 'Bo Approver'", _claim_another_name, "UNKNOWN SIGNER")
    ],
    "verify with a registry lacking the key": [("Bo not registered", _nothing, "UNKNOWN SIGNER")],
    "author = approver": [("Ada's second key approves", _author_approves, "also signed as author")],
}
CASES = [(cls, *attack) for cls, attacks in ATTACKS.items() for attack in attacks]


@pytest.mark.parametrize(
    ("attack_class", "variant", "attack", "named"),
    CASES,
    ids=[f"{cls}: {variant}" for cls, variant, _, _ in CASES],
)
@pytest.mark.req("DXV-INTEG-001", "DXV-INTEG-003", "DXV-INTEG-005", "DXV-INTEG-006")
def test_adversarial_bundle_checklist(  # noqa: PLR0917  (pytest passes parameters by name)
    signed: Path,
    keys: Path,
    attack_class: str,
    variant: str,
    attack: Callable[[Path, Path], None],
    named: str,
) -> None:
    people = [ADA, BO] if attack_class != "verify with a registry lacking the key" else [ADA]
    if attack_class == "author = approver":
        people = [ADA, BO, ("ada2", "Ada A. Author (QA)", ["approver"], "2020-01-01", None)]
    registry = _registry(keys, *people)
    assert _verify(signed, "--signers", str(registry))[0] == (
        3 if attack_class == "verify with a registry lacking the key" else 0
    )
    attack(signed, keys)
    code, out = _verify(signed, "--signers", str(registry))
    assert code == 3, out
    assert named in out
    assert "Traceback" not in out
