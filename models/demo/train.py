"""Train the demo nodule classifier on synthetic radiographs and export it.

Run from the repository root (CPU only, one thread; about seven minutes on a
shared two-core machine)::

    .venv/bin/python models/demo/train.py

What it does, in order:

1. Checks that the training and tuning sets share no patient ID, case ID or
   DICOM UID with the demo test sets (seed ``DEFAULT_SEED``, first
   ``CHECKED_TEST_CASES_PER_SITE`` cases of every site), then generates the
   training set *in memory* with the demo generator's code
   (:func:`dxval.demo.generate_cases`) under its own seed, ``TRAINING_SEED``,
   at all three demo sites.
2. Turns every DICOM file into the model input with dxval's own
   :class:`~dxval.dicom.loader.CaseLoader` and the preprocessing the demo
   protocol declares (``PREPROCESSING``), so the network is trained on exactly
   the tensor the validation harness will feed it.
3. Trains a small fully convolutional network (seeded, deterministic
   algorithms, one thread) with two losses: the image label on the maximum of
   a coarse 16×16 lesion map, and the lesion's footprint on that map (the
   generator knows where every nodule is), which makes learning from a few
   hundred positives possible.
4. Exports the same weights to TorchScript (``demo-nodule.pt``) and ONNX
   (``demo-nodule.onnx``): input ``image`` [batch, 1, 128, 128] float32,
   output ``score`` [batch, 1], a logit (the protocol applies a sigmoid).
   Checks both artifacts agree within 1e-5 on real inputs and batch sizes.
5. Chooses the operating point on a separate *tuning* set (seed
   ``TUNING_SEED``): the probability at which its specificity is 0.90. The
   test sets never influence a choice.
6. Scores the demo test sets (default seed and size, damaged files left out)
   through onnxruntime and writes per-site AUC (DeLong) and sensitivity and
   specificity (Wilson) at the operating point to ``training-report.json``;
   the model card quotes those numbers. Fails if the pooled AUC is below 0.8
   (training did not converge).

Demonstration only: trained on synthetic images, NOT a medical device.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
import time
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from dxval.demo import (
    DEFAULT_CASES_PER_SITE,
    DEFAULT_SEED,
    DEMO_SITES,
    GeneratedCase,
    generate_cases,
    truncated_indices,
)
from dxval.demo.cases import case_identifier
from dxval.demo.radiograph import lesion_footprint
from dxval.demo.writer import identifiers
from dxval.dicom import CaseFailure
from dxval.dicom.loader import CaseLoader
from dxval.dicom.pixels import resize
from dxval.protocol.preprocessing import plain_steps

TRAINING_SEED = 97_531
TUNING_SEED = 86_420
TRAIN_CASES_PER_SITE = 500
TUNING_CASES_PER_SITE = 100
#: the operating point is the probability at which the tuning set's specificity is this
TARGET_SPECIFICITY = 0.90
INPUT_SIZE = 128
MAP_SIZE = 16
STEPS = 1800
BATCH_SIZE = 16
LEARNING_RATE = 2e-3
LESION_POSITIVE_WEIGHT = 10.0
TORCH_SEED = 20260101
#: a test-set AUC below this means training did not converge: the script fails
MINIMUM_TEST_AUC = 0.8
CHECKED_TEST_CASES_PER_SITE = 2000
ONNX_OPSET = 17
AGREEMENT_TOLERANCE = 1e-5

#: the preprocessing of protocols/demo.yaml (dxval.dicom.ops), applied by CaseLoader
PREPROCESSING: list[dict[str, object]] = [
    {"op": "modality_lut"},
    {"op": "voi_lut"},
    {"op": "monochrome2"},
    {"op": "resize", "size": [INPUT_SIZE, INPUT_SIZE], "method": "area"},
    {"op": "scale", "low": 0.0, "high": 1.0},
    {"op": "to_channels", "channels": 1},
]

HERE = Path(__file__).resolve().parent


class LesionMapNet(nn.Module):
    """Four 3×3 conv blocks (16-24-32-32 channels, three 2×2 max-pools) and a 1×1 lesion map.

    Input [N, 1, 128, 128] in [0, 1]; output the lesion-map logits [N, 1, 16, 16].
    """

    def __init__(self) -> None:
        super().__init__()
        widths = (1, 16, 24, 32, 32)
        layers: list[nn.Module] = []
        for index in range(len(widths) - 1):
            layers += [
                nn.Conv2d(widths[index], widths[index + 1], 3, padding=1, bias=False),
                nn.BatchNorm2d(widths[index + 1]),
                nn.ReLU(),
            ]
            if index < 3:
                layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.lesion_map = nn.Conv2d(widths[-1], 1, 1)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """Lesion-map logits for a batch of preprocessed radiographs."""
        return self.lesion_map(self.features((image - 0.5) * 4.0))


class NoduleScore(nn.Module):
    """The exported model: the maximum lesion-map logit, one ``score`` per image [N, 1]."""

    def __init__(self, network: LesionMapNet) -> None:
        super().__init__()
        self.network = network

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """Image-level logit: the most suspicious location's logit."""
        return self.network(image).amax(dim=(2, 3))


def _identifiers(seed: int, cases_per_site: int) -> set[str]:
    values: set[str] = set()
    for site in DEMO_SITES:
        for index in range(cases_per_site):
            case_id = case_identifier(seed, site, index)
            values.update(identifiers(seed, site.site_id, index, case_id).values())
    return values


def check_disjoint_from_test_sets(cases_per_site: int) -> int:
    """Fail unless no training or tuning identifier occurs in the demo test sets.

    Compares Patient ID (= case ID) and Study, Series and SOP Instance UIDs of
    the training and tuning cases with those of the first
    ``CHECKED_TEST_CASES_PER_SITE`` test cases of every site (identifiers only;
    nothing is rendered). Returns how many development identifiers were compared.
    """
    training = _identifiers(TRAINING_SEED, cases_per_site)
    tuning = _identifiers(TUNING_SEED, TUNING_CASES_PER_SITE)
    test = _identifiers(DEFAULT_SEED, CHECKED_TEST_CASES_PER_SITE)
    shared = (training | tuning) & test
    if shared or training & tuning:
        raise SystemExit(f"development and test sets share identifiers: {sorted(shared)[:5]}")
    return len(training) + len(tuning)


def load_tensors(
    cases: Iterable[GeneratedCase], loader: CaseLoader, folder: Path
) -> tuple[list[np.ndarray], list[GeneratedCase]]:
    """Write each case's DICOM bytes to ``folder`` and load the model input with CaseLoader."""
    tensors, kept = [], []
    for generated in cases:
        path = folder / f"{generated.case.case_id}.dcm"
        path.write_bytes(generated.file_bytes)
        try:
            tensors.append(loader((path,)))
            kept.append(generated)
        except CaseFailure as failure:
            print(f"  left out {generated.case.case_id}: {failure}")
        path.unlink()
    return tensors, kept


def build_training_set(
    cases_per_site: int, loader: CaseLoader, folder: Path, *, sites: Sequence[str] | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Return training inputs [N, 1, 128, 128], labels [N] and lesion maps [N, 1, 16, 16].

    ``sites``: the site IDs to train on (default every demo site).
    """
    images, labels, maps = [], [], []
    for site in DEMO_SITES:
        if sites is not None and site.site_id not in sites:
            continue
        cases = generate_cases(TRAINING_SEED, site, range(cases_per_site))
        tensors, kept = load_tensors(cases, loader, folder)
        images += tensors
        for generated in kept:
            labels.append(float(generated.case.label))
            footprint = lesion_footprint(generated.case, site).astype(np.float64)
            fraction = resize(footprint, (MAP_SIZE, MAP_SIZE), method="area")
            maps.append(np.clip(2.0 * fraction, 0.0, 1.0).astype(np.float32))
        print(f"  {site.site_id}: {len(kept)} training cases")
    return (
        torch.from_numpy(np.stack(images)),
        torch.tensor(labels, dtype=torch.float32),
        torch.from_numpy(np.stack(maps)[:, None]),
    )


def train(
    images: torch.Tensor,
    labels: torch.Tensor,
    maps: torch.Tensor,
    *,
    steps: int = STEPS,
    initial: Path | None = None,
) -> LesionMapNet:
    """Adam, ``steps`` mini-batches drawn with a seeded generator; lr ÷ 5 at 75% and 90%.

    ``initial``: a TorchScript artifact of this script whose weights training starts from
    (fine-tuning), instead of a fresh initialisation.
    """
    network = LesionMapNet()
    if initial is not None:
        weights = torch.jit.load(str(initial)).state_dict()
        network.load_state_dict({key.removeprefix("network."): v for key, v in weights.items()})
    optimizer = torch.optim.Adam(network.parameters(), lr=LEARNING_RATE)
    milestones = [int(steps * 0.75), int(steps * 0.9)]
    schedule = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=milestones, gamma=0.2)
    map_loss = nn.BCEWithLogitsLoss(pos_weight=torch.tensor(LESION_POSITIVE_WEIGHT))
    sampler = torch.Generator().manual_seed(TORCH_SEED)
    network.train()
    running = 0.0
    for step in range(1, steps + 1):
        batch = torch.randint(0, len(images), (BATCH_SIZE,), generator=sampler)
        optimizer.zero_grad()
        logits = network(images[batch])
        image_loss = nn.functional.binary_cross_entropy_with_logits(
            logits.amax(dim=(2, 3)).squeeze(1), labels[batch]
        )
        loss = image_loss + map_loss(logits, maps[batch])
        loss.backward()
        optimizer.step()
        schedule.step()
        running = 0.98 * running + 0.02 * loss.item()
        if step % 250 == 0:
            print(f"  step {step}/{steps}: loss {running:.3f}")
    return network.eval()


def export(
    model: NoduleScore, sample: torch.Tensor, folder: Path, *, name: str = "demo-nodule"
) -> tuple[Path, Path]:
    """Write TorchScript and ONNX artifacts of ``model``; return their paths."""
    torchscript_path, onnx_path = folder / f"{name}.pt", folder / f"{name}.onnx"
    with warnings.catch_warnings():
        # both exporters warn that they are deprecated in favour of torch.export;
        # TorchScript and the TorchScript-based ONNX exporter are what dxval's runners load
        warnings.simplefilter("ignore", DeprecationWarning)
        traced = torch.jit.trace(model, sample)
        torch.jit.save(traced, str(torchscript_path))
        torch.onnx.export(
            model,
            (sample,),
            str(onnx_path),
            dynamo=False,
            input_names=["image"],
            output_names=["score"],
            dynamic_axes={"image": {0: "batch"}, "score": {0: "batch"}},
            opset_version=ONNX_OPSET,
        )
    return torchscript_path, onnx_path


def check_agreement(torchscript_path: Path, onnx_path: Path, images: torch.Tensor) -> float:
    """Largest |ONNX − TorchScript| over batches of 1, 5 and 32 real inputs; fail above 1e-5."""
    import onnxruntime

    scripted = torch.jit.load(str(torchscript_path))
    session = onnxruntime.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    worst = 0.0
    for size in (1, 5, 32):
        batch = images[:size]
        with torch.no_grad():
            expected = scripted(batch).numpy()
        (got,) = session.run(["score"], {"image": batch.numpy()})
        worst = max(worst, float(np.max(np.abs(got - expected))))
    if worst > AGREEMENT_TOLERANCE:
        raise SystemExit(f"ONNX and TorchScript disagree by {worst:.2e} > {AGREEMENT_TOLERANCE}")
    return worst


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _estimate(value: object) -> dict[str, object]:
    data = value.to_dict()  # type: ignore[attr-defined]
    return {key: data[key] for key in ("estimate", "low", "high", "method", "n")}


def score_cases(
    seed: int,
    cases_per_site: int,
    session: object,
    loader: CaseLoader,
    folder: Path,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Probabilities and truth per site for the readable cases of a generated set."""
    scored: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for site in DEMO_SITES:
        damaged = truncated_indices(site, cases_per_site) if seed == DEFAULT_SEED else frozenset()
        readable = [index for index in range(cases_per_site) if index not in damaged]
        tensors, kept = load_tensors(generate_cases(seed, site, readable), loader, folder)
        (logits,) = session.run(["score"], {"image": np.stack(tensors)})  # type: ignore[attr-defined]
        probabilities = 1.0 / (1.0 + np.exp(-logits[:, 0].astype(np.float64)))
        truth = np.array([generated.case.label == 1 for generated in kept])
        scored[site.site_id] = (truth, probabilities)
    return scored


def choose_operating_point(scored: dict[str, tuple[np.ndarray, np.ndarray]]) -> float:
    """The probability (2 decimals) giving ``TARGET_SPECIFICITY`` on the pooled tuning negatives."""
    negatives = np.concatenate([scores[~truth] for truth, scores in scored.values()])
    return round(float(np.quantile(negatives, TARGET_SPECIFICITY)), 2)


def summarize(
    scored: dict[str, tuple[np.ndarray, np.ndarray]], operating_point: float
) -> dict[str, object]:
    """AUC (DeLong) and sensitivity/specificity (Wilson) per site and pooled."""
    from dxval.stats import auc_delong, binary_metrics

    groups = dict(scored)
    groups["all"] = (
        np.concatenate([truth for truth, _ in scored.values()]),
        np.concatenate([scores for _, scores in scored.values()]),
    )
    results: dict[str, object] = {}
    for name, (truth, scores) in groups.items():
        metrics = binary_metrics(truth, scores, threshold=operating_point)
        results[name] = {
            "cases": len(truth),
            "positives": int(truth.sum()),
            "auc": _estimate(auc_delong(truth, scores)),
            "sensitivity": _estimate(metrics.sensitivity),
            "specificity": _estimate(metrics.specificity),
        }
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Train, export, check, tune the operating point and evaluate; write the report."""
    import onnxruntime

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="artifact folder")
    parser.add_argument("--cases-per-site", type=int, default=TRAIN_CASES_PER_SITE)
    parser.add_argument(
        "--steps", type=int, default=STEPS, help="training steps (the PCCP demo's v2: fewer)"
    )
    parser.add_argument(
        "--name", default="demo-nodule", help="artifact and report name (NAME.onnx, NAME.pt)"
    )
    parser.add_argument(
        "--init", type=Path, default=None, help="fine-tune from this TorchScript artifact"
    )
    parser.add_argument(
        "--sites", default=None, help="comma-separated site IDs to train on (default all)"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # the machine is shared; one thread also keeps results stable
    torch.manual_seed(TORCH_SEED)
    torch.use_deterministic_algorithms(True)
    started = time.perf_counter()
    compared = check_disjoint_from_test_sets(args.cases_per_site)
    print(f"no shared identifiers ({compared} development identifiers checked)")
    # CaseLoader takes plain steps (dxval.dicom.steps), as the harness builds them
    loader = CaseLoader(plain_steps(PREPROCESSING), expected_shape=(1, INPUT_SIZE, INPUT_SIZE))
    with tempfile.TemporaryDirectory(prefix="dxval-demo-train-") as scratch:
        folder = Path(scratch)
        sites = None if args.sites is None else args.sites.split(",")
        images, labels, maps = build_training_set(args.cases_per_site, loader, folder, sites=sites)
        generated_at = time.perf_counter()
        network = train(images, labels, maps, steps=args.steps, initial=args.init)
        trained_at = time.perf_counter()
        model = NoduleScore(network).eval()
        args.out.mkdir(parents=True, exist_ok=True)
        torchscript_path, onnx_path = export(model, images[:2], args.out, name=args.name)
        difference = check_agreement(torchscript_path, onnx_path, images)
        print(f"ONNX vs TorchScript: max |difference| {difference:.2e}")
        session = onnxruntime.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
        tuning = score_cases(TUNING_SEED, TUNING_CASES_PER_SITE, session, loader, folder)
        operating_point = choose_operating_point(tuning)
        test = score_cases(DEFAULT_SEED, DEFAULT_CASES_PER_SITE, session, loader, folder)
    evaluation = summarize(test, operating_point)
    report = {
        "training_seed": TRAINING_SEED,
        "tuning_seed": TUNING_SEED,
        "test_seed": DEFAULT_SEED,
        "training_cases": len(labels),
        "training_positives": int(labels.sum()),
        "tuning_cases": sum(len(truth) for truth, _ in tuning.values()),
        "steps": args.steps,
        "initialised_from": None if args.init is None else args.init.name,
        "training_sites": sites or [site.site_id for site in DEMO_SITES],
        "batch_size": BATCH_SIZE,
        "preprocessing": PREPROCESSING,
        "operating_point": operating_point,
        "operating_point_rule": f"specificity {TARGET_SPECIFICITY} on the tuning set",
        "tuning_set": summarize(tuning, operating_point),
        "onnx_torchscript_max_difference": difference,
        "seconds": {
            "generate_and_preprocess": round(generated_at - started, 1),
            "train": round(trained_at - generated_at, 1),
            "total": round(time.perf_counter() - started, 1),
        },
        "artifacts": {
            path.name: {"sha256": _sha256(path), "bytes": path.stat().st_size}
            for path in (onnx_path, torchscript_path)
        },
        "torch": torch.__version__,
        "test_sets": evaluation,
    }
    report_name = "training-report.json"
    report_path = args.out / (
        report_name if args.name == "demo-nodule" else f"{args.name}-{report_name}"
    )
    report_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({"operating_point": operating_point, "test_sets": evaluation}, indent=2))
    print(f"wrote {onnx_path}, {torchscript_path}, {report_path}")
    auc = evaluation["all"]["auc"]["estimate"]  # type: ignore[index]
    if auc < MINIMUM_TEST_AUC:
        raise SystemExit(f"test AUC {auc:.3f} < {MINIMUM_TEST_AUC}: training did not converge")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
