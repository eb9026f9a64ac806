"""Electronic signatures: keygen, sign, and verification of every signature (21 CFR 11)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from dxval.cli import main
from dxval.errors import IntegrityError, UsageError
from dxval.evidence import read_events, verify_bundle
from dxval.evidence.manifest import MANIFEST_NAME, digest_files, render_manifest
from dxval.evidence.signatures import (
    PASSPHRASE_VARIABLE,
    Meaning,
    SigningKey,
    check_signatures,
    evidence_digest,
    generate_key,
    load_signing_key,
    read_passphrase,
    read_signatures,
    sign_bundle,
)

AUTHOR_WORDS = "author passphrase 1"
APPROVER_WORDS = "approver passphrase 2"
OTHER_WORDS = "long enough passphrase"
SHORT_WORDS = "1234567"


@pytest.fixture(scope="module")
def key_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Key files of an author and an approver (made once; never modified)."""
    folder = tmp_path_factory.mktemp("keys")
    generate_key("Ada Author", folder / "author.key", passphrase=AUTHOR_WORDS)
    generate_key("Bo Approver", folder / "approver.key", passphrase=APPROVER_WORDS)
    return {"author": folder / "author.key", "approver": folder / "approver.key"}


@pytest.fixture
def author(key_files: dict[str, Path]) -> SigningKey:
    return load_signing_key(key_files["author"], passphrase=AUTHOR_WORDS)


@pytest.fixture
def approver(key_files: dict[str, Path]) -> SigningKey:
    return load_signing_key(key_files["approver"], passphrase=APPROVER_WORDS)


@pytest.fixture
def signed(bundle: Path, author: SigningKey, approver: SigningKey) -> Path:
    """A private copy of the aSAH bundle signed as authored and approved."""
    sign_bundle(bundle, author, meaning=Meaning.AUTHORED, reason="I ran it", render=False)
    sign_bundle(bundle, approver, meaning=Meaning.APPROVED, render=False)
    return bundle


def _problems(bundle: Path) -> list[str]:
    return [str(p) for p in (*verify_bundle(bundle).problems, *check_signatures(bundle))]


def _flip(path: Path) -> None:
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 0x01
    path.write_bytes(bytes(content))


def _rewrite_manifest(bundle: Path) -> None:
    (bundle / MANIFEST_NAME).write_bytes(render_manifest(digest_files(bundle)))


@pytest.mark.req("DXV-SIGN-001")
def test_keygen_writes_an_encrypted_key_and_a_public_identity(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(PASSPHRASE_VARIABLE, OTHER_WORDS)
    key = tmp_path / "signer.key"
    assert main(["keygen", "--name", "  Grace   Hopper ", "--out", str(key)]) == 0
    out = capsys.readouterr().out
    document = json.loads(key.read_text())
    public = json.loads((tmp_path / "signer.key.pub").read_text())
    assert document["name"] == "Grace Hopper"
    assert document["private_key"].startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert "private_key" not in public
    assert public["key_id"] == document["key_id"]
    assert f"key ID {document['key_id']}" in out
    assert key.stat().st_mode & 0o777 == 0o600
    loaded = load_signing_key(key, passphrase=OTHER_WORDS)
    assert (loaded.name, loaded.key_id) == ("Grace Hopper", document["key_id"])


@pytest.mark.req("DXV-SIGN-001")
def test_keygen_never_overwrites_and_refuses_short_passphrases(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "k.key"
    key.write_text("precious")
    with pytest.raises(UsageError, match=r"k\.key: file exists; expected a new key file name"):
        generate_key("A", key, passphrase=OTHER_WORDS)
    assert key.read_text() == "precious"
    with pytest.raises(UsageError, match="passphrase: got 7 character"):
        generate_key("A", tmp_path / "new.key", passphrase=SHORT_WORDS)
    with pytest.raises(UsageError, match="--name: got an empty name"):
        generate_key("  ", tmp_path / "new.key", passphrase=OTHER_WORDS)
    assert not (tmp_path / "new.key").exists()
    monkeypatch.setenv(PASSPHRASE_VARIABLE, "short")
    assert main(["keygen", "--name", "A", "--out", str(tmp_path / "x.key")]) == 2
    assert "dxval: error: passphrase: got 5 characters" in capsys.readouterr().err


@pytest.mark.req("DXV-SIGN-001")
def test_passphrase_is_prompted_twice_without_echo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PASSPHRASE_VARIABLE, raising=False)
    answers = iter(["first entry", "other entry"])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    with pytest.raises(UsageError, match="the two entries differ"):
        read_passphrase(confirm=True)
    monkeypatch.setattr("getpass.getpass", lambda prompt: "same entry")
    assert read_passphrase(confirm=True) == "same entry"

    def no_terminal(prompt: str) -> str:
        raise EOFError

    monkeypatch.setattr("getpass.getpass", no_terminal)
    with pytest.raises(UsageError, match=f"no terminal to prompt on; set {PASSPHRASE_VARIABLE}"):
        read_passphrase(confirm=False)


@pytest.mark.req("DXV-SIGN-002", "DXV-EVID-003")
def test_a_signed_bundle_verifies(signed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _problems(signed) == []
    assert main(["verify", str(signed)]) == 0
    capsys.readouterr()
    records = read_signatures(signed)
    assert [(r.path, r.name, r.meaning) for r in records] == [
        ("signatures/01-authored.json", "Ada Author", Meaning.AUTHORED),
        ("signatures/02-approved.json", "Bo Approver", Meaning.APPROVED),
    ]
    assert records[0].reason == "I ran it"
    assert all(r.signed_utc.endswith("Z") and r.signed_utc[10] == "T" for r in records)
    assert {r.evidence_digest for r in records} == {evidence_digest(signed)}
    events = read_events((signed / "audit.jsonl").read_bytes())
    applied = [e for e in events if e["action"] == "signature.applied"]
    assert [e["object"]["file"] for e in applied] == [r.path for r in records]
    assert applied[0]["reason"] == "I ran it"
    assert applied[1]["reason"] == "electronic signature: approved"
    assert all({"time", "user", "host", "object"} <= event.keys() for event in applied)
    manifest = (signed / MANIFEST_NAME).read_text()
    assert "  signatures/02-approved.json\n" in manifest
    check = subprocess.run(
        ["sha256sum", "--check", "--quiet", MANIFEST_NAME], cwd=signed, check=False
    )
    assert check.returncode == 0


@pytest.mark.req("DXV-SIGN-002")
def test_sign_command_rerenders_the_report_without_invalidating_signatures(
    bundle: Path,
    key_files: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    calls = []

    def render(folder: Path) -> list[Path]:
        signers = [record.name for record in read_signatures(folder)]
        calls.append(signers)
        (folder / "figures").mkdir(exist_ok=True)
        (folder / "figures" / "roc.svg").write_text(f"<svg>{len(calls)}</svg>")
        (folder / "report.html").write_text(f"signed by {', '.join(signers)}")
        return [folder / "report.html"]

    monkeypatch.setattr("dxval.report.render_bundle_reports", render)
    monkeypatch.setenv(PASSPHRASE_VARIABLE, AUTHOR_WORDS)
    arguments = ["sign", str(bundle), "--meaning", "authored", "--key", str(key_files["author"])]
    assert main([*arguments, "--reason", "wrote the protocol"]) == 0
    out = capsys.readouterr().out
    assert f"{bundle}: signed as authored by Ada Author (key " in out
    monkeypatch.setenv(PASSPHRASE_VARIABLE, APPROVER_WORDS)
    arguments = ["sign", str(bundle), "--meaning", "approved", "--key", str(key_files["approver"])]
    assert main(arguments) == 0
    assert calls == [["Ada Author"], ["Ada Author", "Bo Approver"]]
    assert (bundle / "report.html").read_text() == "signed by Ada Author, Bo Approver"
    assert _problems(bundle) == []
    assert "  report.html\n" in (bundle / MANIFEST_NAME).read_text()


@pytest.mark.req("DXV-SIGN-005", "DXV-EXIT-004")
@pytest.mark.parametrize(
    "name",
    [
        "audit.jsonl",
        "cases.csv",
        "criteria.json",
        "metrics.json",
        "protocol.yaml",
        "run.json",
        "lock.json",
        "environment.json",
        MANIFEST_NAME,
        "signatures/01-authored.json",
        "signatures/02-approved.json",
    ],
)
def test_changing_any_byte_of_a_signed_bundle_is_exit_3_naming_it(
    signed: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _flip(signed / name)
    assert main(["verify", str(signed)]) == 3
    assert name in capsys.readouterr().err


@pytest.mark.req("DXV-SIGN-005", "DXV-EVID-003")
def test_adding_a_file_is_exit_3_naming_it(
    signed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (signed / "signatures" / "03-approved.json").write_text("{}")
    (signed / "notes.txt").write_text("added later")
    assert main(["verify", str(signed)]) == 3
    err = capsys.readouterr().err
    assert "extra: notes.txt" in err
    assert "extra: signatures/03-approved.json" in err
    problems = [str(problem) for problem in check_signatures(signed)]
    assert any("03-approved.json (not a dxval-signature/2 record" in p for p in problems)
    assert any("01-authored.json (no longer valid" in p for p in problems)


@pytest.mark.req("DXV-AUDIT-002")
@pytest.mark.parametrize("edit", ["alter", "delete", "insert"])
def test_editing_an_audit_line_of_a_signed_bundle_is_exit_3(
    signed: Path, edit: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = signed / "audit.jsonl"
    lines = path.read_bytes().split(b"\n")[:-1]
    if edit == "alter":
        lines[-2] = lines[-2].replace(b'"meaning":"authored"', b'"meaning":"reviewed"')
    elif edit == "delete":
        del lines[-2]
    else:
        lines.insert(3, lines[2])
    path.write_bytes(b"\n".join(lines) + b"\n")
    assert main(["verify", str(signed)]) == 3
    err = capsys.readouterr().err
    assert "audit.jsonl" in err
    assert "chain broken" in err


@pytest.mark.req("DXV-AUDIT-002", "DXV-SIGN-005")
def test_an_altered_last_audit_event_is_detected(
    signed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = signed / "audit.jsonl"
    path.write_bytes(path.read_bytes().replace(b'"name":"Bo Approver"', b'"name":"Bo Other"'))
    assert main(["verify", str(signed)]) == 3
    assert "changed: audit.jsonl" in capsys.readouterr().err
    _rewrite_manifest(signed)  # a forger recomputes the manifest; the audit record still tells
    problems = [str(problem) for problem in check_signatures(signed)]
    assert problems == [
        "signature: signatures/02-approved.json (differs from its signature.applied event in "
        "audit.jsonl: name)"
    ]


@pytest.mark.req("DXV-SIGN-003")
def test_the_author_cannot_approve(
    bundle: Path,
    key_files: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    author = load_signing_key(key_files["author"], passphrase=AUTHOR_WORDS)
    sign_bundle(bundle, author, meaning=Meaning.AUTHORED, render=False)
    monkeypatch.setenv(PASSPHRASE_VARIABLE, AUTHOR_WORDS)
    arguments = ["sign", str(bundle), "--meaning", "approved", "--key", str(key_files["author"])]
    assert main(arguments) == 2
    assert "the approver must differ from the author" in capsys.readouterr().err
    generate_key("ada  AUTHOR", tmp_path / "second.key", passphrase=OTHER_WORDS)
    same_person = load_signing_key(tmp_path / "second.key", passphrase=OTHER_WORDS)
    with pytest.raises(UsageError, match="ada AUTHOR signed this bundle as authored"):
        sign_bundle(bundle, same_person, meaning=Meaning.APPROVED, render=False)
    with pytest.raises(UsageError, match="Ada Author already signed this bundle as authored"):
        sign_bundle(bundle, author, meaning=Meaning.AUTHORED, render=False)
    assert [record.meaning for record in read_signatures(bundle)] == [Meaning.AUTHORED]
    assert _problems(bundle) == []


@pytest.mark.req("DXV-SIGN-003")
def test_an_approver_who_authored_is_reported_by_verification(
    bundle: Path, author: SigningKey
) -> None:
    sign_bundle(bundle, author, meaning=Meaning.APPROVED, render=False)
    with pytest.raises(UsageError, match="must differ from the author"):
        sign_bundle(bundle, author, meaning=Meaning.AUTHORED, render=False)
    record = bundle / "signatures" / "01-approved.json"
    shutil.copy(record, bundle / "signatures" / "02-authored.json")
    document = json.loads(record.read_text())
    assert document["meaning"] == "approved"
    problems = [str(problem) for problem in check_signatures(bundle)]
    assert any("02-authored.json (file name does not state its meaning" in p for p in problems)


@pytest.mark.req("DXV-SIGN-004")
def test_a_wrong_passphrase_is_refused(
    bundle: Path,
    key_files: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(UsageError, match=r"author\.key: wrong passphrase"):
        load_signing_key(key_files["author"], passphrase=APPROVER_WORDS)
    monkeypatch.setenv(PASSPHRASE_VARIABLE, "not the passphrase")
    arguments = ["sign", str(bundle), "--meaning", "authored", "--key", str(key_files["author"])]
    assert main(arguments) == 2
    assert "wrong passphrase (the private key could not be decrypted); signature refused" in (
        capsys.readouterr().err
    )
    assert not (bundle / "signatures").exists()


@pytest.mark.req("DXV-SIGN-004")
def test_malformed_or_altered_key_files(key_files: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"missing\.key: key file not found"):
        load_signing_key(tmp_path / "missing.key", passphrase=SHORT_WORDS)
    (tmp_path / "text.key").write_text("not json")
    with pytest.raises(UsageError, match="got a file that is not JSON"):
        load_signing_key(tmp_path / "text.key", passphrase=SHORT_WORDS)
    (tmp_path / "other.key").write_text('{"schema": "other"}')
    with pytest.raises(UsageError, match="expected a dxval key file"):
        load_signing_key(tmp_path / "other.key", passphrase=SHORT_WORDS)
    document = json.loads(key_files["author"].read_text())
    document["name"] = "Someone Else"
    (tmp_path / "renamed.key").write_text(json.dumps(document))
    with pytest.raises(IntegrityError, match="identity \\(name or key\\) was altered"):
        load_signing_key(tmp_path / "renamed.key", passphrase=AUTHOR_WORDS)


@pytest.mark.req("DXV-SIGN-005")
def test_a_signature_over_older_evidence_is_no_longer_valid(signed: Path) -> None:
    before = evidence_digest(signed)
    criteria = signed / "criteria.json"
    criteria.write_bytes(criteria.read_bytes().replace(b'"verdict": "fail"', b'"verdict": "pass"'))
    _rewrite_manifest(signed)  # a forger recomputes the manifest; the signatures still tell
    others = [str(p) for p in verify_bundle(signed).problems if p.kind != "signature"]
    assert [p.split(" (")[0] for p in others] == ["changed: criteria.json"]  # sealed digest
    problems = [str(problem) for problem in check_signatures(signed)]
    assert len(problems) == 2
    for name in ("01-authored", "02-approved"):
        assert any(
            p.startswith(
                f"signature: signatures/{name}.json (no longer valid: it signs evidence "
                f"digest {before}, the evidence now has digest "
            )
            for p in problems
        ), problems


@pytest.mark.req("DXV-SIGN-005")
def test_verify_command_reports_a_signature_no_longer_valid(
    signed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    criteria = signed / "criteria.json"
    criteria.write_bytes(criteria.read_bytes().replace(b'"verdict": "fail"', b'"verdict": "pass"'))
    _rewrite_manifest(signed)
    assert main(["verify", str(signed)]) == 3
    assert "no longer valid" in capsys.readouterr().err


@pytest.mark.req("DXV-SIGN-005")
def test_forged_and_copied_signatures_are_detected(
    signed: Path, sealed_bundle: Path, tmp_path: Path, approver: SigningKey
) -> None:
    record = signed / "signatures" / "02-approved.json"
    document = json.loads(record.read_text())
    document["name"] = "Someone Else"
    record.write_text(json.dumps(document, indent=2))
    _rewrite_manifest(signed)
    problems = [str(problem) for problem in check_signatures(signed)]
    assert any("02-approved.json (the Ed25519 signature does not match" in p for p in problems)
    assert any("02-approved.json (differs from its signature.applied event" in p for p in problems)
    other = tmp_path / "other-run"
    shutil.copytree(sealed_bundle, other)
    run = json.loads((other / "run.json").read_text())
    run["run_id"] = "20260202T000000Z-123456"
    (other / "run.json").write_text(json.dumps(run))
    (other / "signatures").mkdir()
    shutil.copy(signed / "signatures" / "01-authored.json", other / "signatures")
    _rewrite_manifest(other)
    problems = [str(problem) for problem in check_signatures(other)]
    assert any(
        "signed run ASAH-EXAMPLE/20260101T000000Z-abcdef, this bundle is" in p for p in problems
    )
    assert any("no signature.applied event in audit.jsonl" in p for p in problems)


@pytest.mark.req("DXV-SIGN-006")
def test_a_bundle_that_does_not_verify_is_not_signed(
    bundle: Path, author: SigningKey, capsys: pytest.CaptureFixture[str]
) -> None:
    _flip(bundle / "metrics.json")
    with pytest.raises(IntegrityError, match="refusing to sign a bundle that does not verify"):
        sign_bundle(bundle, author, meaning=Meaning.AUTHORED, render=False)
    assert not (bundle / "signatures").exists()
    with pytest.raises(UsageError, match="not a bundle folder"):
        sign_bundle(bundle / "nothing", author, meaning=Meaning.AUTHORED, render=False)


def test_evidence_digest_ignores_renderings_and_later_audit_events(
    signed: Path, bundle: Path
) -> None:
    digest = evidence_digest(signed)
    (signed / "report.pdf").write_bytes(b"%PDF rendering")
    (signed / "figures").mkdir()
    (signed / "figures" / "roc.svg").write_text("<svg/>")
    assert evidence_digest(signed) == digest
    (signed / "lock.json").write_text("{}")
    assert evidence_digest(signed) != digest
    os.remove(signed / "audit.jsonl")
    with pytest.raises(IntegrityError, match=r"audit\.jsonl missing"):
        evidence_digest(signed)


@pytest.mark.req("DXV-AUDIT-001")
def test_every_audit_event_is_attributable_and_chained(signed: Path) -> None:
    content = (signed / "audit.jsonl").read_bytes()
    lines = content.split(b"\n")[:-1]
    events = read_events(content)
    assert len(events) == len(lines)
    actions = [event["action"] for event in events]
    assert actions[0] == "protocol.loaded"
    assert {"locks.checked", "cases.scored", "analysis.completed"} <= set(actions)
    assert actions[-3:] == ["bundle.sealed", "signature.applied", "signature.applied"]
    previous = "0" * 64
    for number, (event, line) in enumerate(zip(events, lines, strict=True), start=1):
        assert set(event) == {
            "action",
            "host",
            "object",
            "previous_sha256",
            "reason",
            "sequence",
            "time",
            "user",
        }
        assert event["sequence"] == number
        assert event["previous_sha256"] == previous
        assert len(event["time"]) == len("2026-01-01T00:00:00.000000Z")
        assert event["time"].endswith("Z")
        assert event["user"]
        assert event["host"]
        assert event["reason"]
        previous = hashlib.sha256(line).hexdigest()


@pytest.mark.req("DXV-SIGN-002")
def test_a_failed_rendering_leaves_the_bundle_unsigned_and_intact(
    bundle: Path, author: SigningKey
) -> None:
    def broken(folder: Path) -> list[Path]:
        raise RuntimeError("renderer crashed")

    with pytest.raises(RuntimeError, match="renderer crashed"):
        sign_bundle(bundle, author, meaning=Meaning.AUTHORED, render=broken)
    assert read_signatures(bundle) == ()
    assert _problems(bundle) == []
