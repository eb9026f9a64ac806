"""The reference model of the self-validation: a 256-byte ONNX graph, score = max − mean.

``score = ReduceMax(image, axes=[2, 3]) − ReduceMean(image, axes=[2, 3])`` for
an input ``image`` of shape [batch, 1, 64, 64] (float32) and an output
``score`` of shape [batch, 1]: the brightest pixel's excess over the image's
mean level, which a nodule raises. The bytes below were written once with
``onnx.helper`` (opset 17, IR version 8, producer ``dxval-selfval``);
``tests/selfval/test_model.py`` rebuilds them from that description and
checks they are identical. Shipping bytes rather than building the graph
keeps self-validation free of the ``onnx`` package, which dxval does not
need at run time. For tool validation only: not a diagnostic model.
"""

from __future__ import annotations

import base64

import numpy as np
from numpy.typing import NDArray

INPUT_NAME = "image"
OUTPUT_NAME = "score"
INPUT_SIZE = 64
MODEL_SHA256 = "8417f877d7ed9f0dec079b759d28b70fd70d657b46cf4c9ff4cd1668a93abfec"
_MODEL_BASE64 = (
    "CAgSDWR4dmFsLXNlbGZ2YWw65gEKOAoFaW1hZ2USBHBlYWsiCVJlZHVjZU1heCoNCgRheGVzQAJAA6ABByoP"
    "CghrZWVwZGltcxgAoAECCjoKBWltYWdlEgVsZXZlbCIKUmVkdWNlTWVhbioNCgRheGVzQAJAA6ABByoPCghr"
    "ZWVwZGltcxgAoAECChkKBHBlYWsKBWxldmVsEgVzY29yZSIDU3ViEg9wZWFrX21pbnVzX21lYW5aJAoFaW1h"
    "Z2USGwoZCAESFQoHEgViYXRjaAoCCAEKAghACgIIQGIcCgVzY29yZRITChEIARINCgcSBWJhdGNoCgIIAUIE"
    "CgAQEQ=="
)


def model_bytes() -> bytes:
    """The ONNX model file's bytes (SHA-256 :data:`MODEL_SHA256`)."""
    return base64.b64decode(_MODEL_BASE64)


def expected_scores(batch: NDArray[np.float32]) -> NDArray[np.float64]:
    """What the model computes, in numpy: max − mean over each image of a [N, 1, H, W] batch."""
    values = batch.astype(np.float64)
    return (values.max(axis=(2, 3)) - values.mean(axis=(2, 3))).ravel()
