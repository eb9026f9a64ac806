"""The preprocessing schema (protocol) and its plain steps (dicom): validation, order, digest."""

from __future__ import annotations

import re

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from dxval.dicom import steps
from dxval.protocol import preprocessing as ops


class _Protocolish(BaseModel):
    preprocessing: list[ops.PreprocessingStep]


def test_registry_names_every_op_model() -> None:
    assert set(ops.OPS) == {
        "modality_lut",
        "voi_lut",
        "window",
        "monochrome2",
        "resize",
        "crop_or_pad",
        "scale",
        "normalize",
        "to_channels",
        "select_frame",
        "select_slices",
        "resample",
    }
    for name, model in ops.OPS.items():
        assert model.model_fields["op"].annotation.__args__ == (name,)
        assert model.model_config["extra"] == "forbid"
        for field_name, field in model.model_fields.items():
            assert field.description, f"{name}.{field_name} lacks a description"


@pytest.mark.req("DXV-DICOM-008")
def test_discriminated_union_locates_errors_at_the_step() -> None:
    with pytest.raises(ValidationError) as caught:
        _Protocolish.model_validate({"preprocessing": [{"op": "modality_lut"}, {"op": "windw"}]})
    error = caught.value.errors()[0]
    assert error["loc"][:2] == ("preprocessing", 1)
    assert "windw" in error["msg"]


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ({"op": "window", "center": 40, "width": 0.5}, "width must be >= 1 for function 'linear'"),
        ({"op": "window", "center": 40, "width": 0}, "greater than 0"),
        ({"op": "window", "center": 40, "width": 400, "level": 3}, "Extra inputs"),
        ({"op": "resize", "size": [256, 0]}, "greater than or equal to 1"),
        ({"op": "resize", "size": [256, 256], "method": "cubic"}, "'area' or 'bilinear'"),
        ({"op": "scale", "low": 1, "high": 0}, "high must exceed low"),
        ({"op": "normalize", "mean": 0.5, "std": 0}, "std must be > 0"),
        ({"op": "select_slices", "count": 0}, "greater than or equal to 1"),
        ({"op": "resample", "spacing": [1, 1]}, r"spacing\.2\n  Field required"),
    ],
)
def test_bad_parameters_are_validation_errors(step: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _Protocolish.model_validate({"preprocessing": [step]})


def test_linear_exact_allows_narrow_windows() -> None:
    step = TypeAdapter(ops.PreprocessingStep).validate_python(
        {"op": "window", "center": 0, "width": 0.5, "function": "linear_exact"}
    )
    assert isinstance(step, ops.WindowOp)


_WINDOW = {"op": "window", "center": 1, "width": 3}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            [{"op": "modality_lut"}, {"op": "modality_lut"}],
            "(modality_lut): modality_lut appears twice",
        ),
        ([_WINDOW, {"op": "modality_lut"}], "(modality_lut): modality_lut must come before window"),
        ([{"op": "voi_lut"}, _WINDOW], "(window): window cannot follow voi_lut"),
        ([{"op": "scale"}, {"op": "voi_lut"}], "(voi_lut): voi_lut cannot follow scale"),
    ],
)
def test_step_order_is_checked(raw: list[dict[str, object]], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(f"preprocessing[1] {message}")):
        ops.parse_steps(raw)


def test_digest_is_canonical_and_sensitive() -> None:
    decoders = {"pydicom": "3.0.2", "pylibjpeg-openjpeg": "2.6.0"}
    explicit = ops.plain_steps([{"op": "window", "center": 40, "width": 400, "function": "linear"}])
    implicit = ops.plain_steps([{"op": "window", "width": 400.0, "center": 40.0}])
    digest = steps.preprocessing_digest(explicit, decoders=decoders)
    assert len(digest) == 64
    assert digest == steps.preprocessing_digest(implicit, decoders=decoders)
    changed_parameter = ops.plain_steps([{"op": "window", "center": 41, "width": 400}])
    assert steps.preprocessing_digest(changed_parameter, decoders=decoders) != digest
    newer_decoder = {**decoders, "pylibjpeg-openjpeg": "2.6.1"}
    assert steps.preprocessing_digest(explicit, decoders=newer_decoder) != digest
    reordered = ops.plain_steps([{"op": "monochrome2"}, {"op": "scale"}])
    original = ops.plain_steps([{"op": "scale"}, {"op": "monochrome2"}])
    assert steps.preprocessing_digest(reordered, decoders=decoders) != steps.preprocessing_digest(
        original, decoders=decoders
    )


def test_decoder_versions_cover_the_decoder_distributions() -> None:
    versions = steps.decoder_versions()
    assert set(versions) == set(steps.DECODER_DISTRIBUTIONS)
    assert versions["pydicom"].startswith("3.")
    assert steps.preprocessing_digest([]) == steps.preprocessing_digest([], decoders=versions)


def test_steps_module_imports_without_pydicom_or_numpy() -> None:
    import subprocess
    import sys

    code = (
        "import sys, dxval.dicom.steps, dxval.dicom; "
        "print('pydicom' in sys.modules, 'numpy' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    )
    assert result.stdout.split() == ["False", "False"]


def test_plain_steps_write_every_default_and_match_the_registry() -> None:
    plain = ops.plain_steps([{"op": "window", "center": 40, "width": 400}, {"op": "scale"}])
    assert plain == (
        steps.WindowOp(center=40.0, width=400.0, function="linear"),
        steps.ScaleOp(low=0.0, high=1.0, source="range"),
    )
    assert isinstance(plain[0].center, float)
    assert set(steps.STEP_TYPES) == set(ops.OPS)
    for name, model in ops.OPS.items():
        fields = set(steps.STEP_TYPES[name].__dataclass_fields__)
        assert fields == set(model.model_fields), name
