"""Inference harness throughput and memory, on one generated DICOM set, in one run.

Prints, in cases per second on the same cases:

1. decode + preprocess alone: :class:`dxval.dicom.loader.CaseLoader` through the
   harness's process executor, no inference;
2. the runner alone on pre-decoded tensors (onnxruntime, CPU), batched as the
   harness batches;
3. the end-to-end harness (decode workers → batches → runner → results file);

and the ratio of (3) to the slower of (1) and (2) (goal: at least 0.85).
The stages get disjoint halves of the cores (decode workers and runtime
threads), as the harness runs them concurrently; with all cores given to both,
the two stages would compete and the ratio would measure the machine, not
the pipeline.

Then the peak resident memory of the harness process at 1,000 and 5,000 cases
(each in a fresh process; goal: less than 20 % growth), showing that memory
does not grow with the number of cases.

Usage: ``python benchmarks/bench_inference.py [--files 300] [--size 128]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from dxval.dicom.loader import CaseLoader
from dxval.inference import (
    Activation,
    CaseInput,
    HarnessOptions,
    InputSpec,
    ModelConfig,
    OutputSpec,
    ProcessExecutor,
    Runtime,
    load_runner,
    run_harness,
)
from dxval.protocol.preprocessing import plain_steps

MODEL_SIDE = 64
STEPS = [
    {"op": "modality_lut"},
    {"op": "window", "center": 40, "width": 400},
    {"op": "resize", "size": [MODEL_SIDE, MODEL_SIDE], "method": "area"},
    {"op": "to_channels", "channels": 1},
]
BATCH_SIZE = 16


def write_dicom_files(folder: Path, count: int, size: int) -> list[Path]:
    """``count`` seeded CT-like images, ``size``×``size`` uint16, explicit VR little endian."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

    rng = np.random.default_rng(20261126)
    paths = []
    for index in range(count):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = CTImageStorage
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        dataset = Dataset()
        dataset.file_meta = meta
        dataset.SOPClassUID = CTImageStorage
        dataset.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
        dataset.Modality = "CT"
        dataset.PatientID = f"BENCH{index:05d}"
        dataset.Rows = dataset.Columns = size
        dataset.SamplesPerPixel = 1
        dataset.PhotometricInterpretation = "MONOCHROME2"
        dataset.BitsAllocated, dataset.BitsStored, dataset.HighBit = 16, 12, 11
        dataset.PixelRepresentation = 0
        dataset.RescaleIntercept, dataset.RescaleSlope = -1024, 1
        dataset.PixelData = rng.integers(0, 4096, (size, size), dtype=np.uint16).tobytes()
        path = folder / f"image{index:05d}.dcm"
        dataset.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def write_model(path: Path, *, width: int) -> ModelConfig:
    """A seeded CNN as ONNX: three 3×3 convolutions (``width`` channels), pooling, a linear head."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(7)

    def tensor(name: str, *shape: int) -> object:
        scale = 1.0 / np.sqrt(np.prod(shape[1:])) if len(shape) > 1 else 0.1
        return numpy_helper.from_array(rng.normal(0, scale, shape).astype(np.float32), name)

    def conv(index: int, source: str, stride: int) -> list[object]:
        return [
            helper.make_node(
                "Conv",
                [source, f"w{index}", f"b{index}"],
                [f"c{index}"],
                strides=[stride, stride],
                pads=[1] * 4,
            ),
            helper.make_node("Relu", [f"c{index}"], [f"r{index}"]),
        ]

    nodes = [
        *conv(1, "image", 1),
        *conv(2, "r1", 2),
        *conv(3, "r2", 1),
        helper.make_node("GlobalAveragePool", ["r3"], ["pool"]),
        helper.make_node("Flatten", ["pool"], ["flat"]),
        helper.make_node("Gemm", ["flat", "w4", "b4"], ["logits"], transB=1),
    ]
    side = MODEL_SIDE
    graph = helper.make_graph(
        nodes,
        "bench",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 1, side, side])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 2])],
        [
            tensor("w1", width, 1, 3, 3),
            tensor("b1", width),
            tensor("w2", width, width, 3, 3),
            tensor("b2", width),
            tensor("w3", width, width, 3, 3),
            tensor("b3", width),
            tensor("w4", 2, width),
            tensor("b4", 2),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path.write_bytes(model.SerializeToString())
    return ModelConfig(
        path=path,
        runtime=Runtime.ONNXRUNTIME,
        input=InputSpec("image", (None, 1, side, side)),
        output=OutputSpec("logits", Activation.SOFTMAX, 1),
        operating_point=0.5,
    )


def case_list(paths: list[Path], count: int) -> list[CaseInput]:
    """``count`` cases cycling over the files (digests are irrelevant without a cache)."""
    return [
        CaseInput(f"case{index:06d}", (paths[index % len(paths)],), (f"{index:064x}",))
        for index in range(count)
    ]


def split_cores() -> tuple[int, int]:
    """Decode workers and runtime threads: disjoint halves of the usable cores."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cores = cores or 2
    workers = max(1, cores // 2)
    return workers, max(1, cores - workers)


def make_executor(workers: int) -> ProcessExecutor:
    """The executor :func:`dxval.inference.score_cases` builds for these settings."""
    chunk_size = max(1, min(8, BATCH_SIZE // workers))
    return ProcessExecutor(
        workers, max_in_flight=2 * BATCH_SIZE + 4 * workers * chunk_size, chunk_size=chunk_size
    )


def time_decode(loader: CaseLoader, cases: list[CaseInput], workers: int) -> float:
    executor = make_executor(workers)
    start = time.perf_counter()
    loaded = sum(1 for outcome in executor.load(loader, cases) if outcome.array is not None)
    elapsed = time.perf_counter() - start
    if loaded != len(cases):
        raise RuntimeError(f"only {loaded} of {len(cases)} cases decoded")
    return len(cases) / elapsed


def time_runner(
    config: ModelConfig, loader: CaseLoader, cases: list[CaseInput], threads: int
) -> tuple[float, float]:
    """Cases/s and main-process CPU seconds per case of the runner on pre-decoded tensors."""
    runner = load_runner(config, threads=threads)
    tensors = np.stack([loader(case.paths) for case in cases[: 4 * BATCH_SIZE]])
    batches = [
        tensors[np.arange(start, start + BATCH_SIZE) % len(tensors)]
        for start in range(0, len(cases), BATCH_SIZE)
    ]
    runner.predict(batches[0])  # warm-up (allocations, kernel selection)
    start, cpu = time.perf_counter(), time.process_time()
    for batch in batches:
        runner.predict(batch)
    count = len(batches) * BATCH_SIZE
    return count / (time.perf_counter() - start), (time.process_time() - cpu) / count


def run_end_to_end(
    config: ModelConfig,
    loader: CaseLoader,
    cases: list[CaseInput],
    folder: Path,
    *,
    workers: int,
    threads: int,
) -> tuple[float, int, float]:
    """Cases/s, cases scored and main-process CPU seconds per case of the whole harness."""
    runner = load_runner(config, threads=threads)
    options = HarnessOptions(
        results_path=folder / "results.jsonl",
        input_spec=config.input,
        output_spec=config.output,
        batch_size=BATCH_SIZE,
        preprocessing_digest=loader.digest,
        use_cache=False,
        executor=make_executor(workers),
    )
    start, cpu = time.perf_counter(), time.process_time()
    result = run_harness(cases, loader, runner, options)
    rate = len(cases) / (time.perf_counter() - start)
    return rate, result.scored, (time.process_time() - cpu) / len(cases)


def rss_child(folder: Path, count: int, width: int) -> None:
    """Run the harness over ``count`` cases and print the peak RSS (KiB) as JSON."""
    config = write_model(folder / f"model-{count}.onnx", width=width)
    loader = CaseLoader(plain_steps(STEPS), expected_shape=config.input.case_shape)
    paths = sorted(folder.glob("image*.dcm"))
    workers, threads = split_cores()
    rate, scored, _ = run_end_to_end(
        config, loader, case_list(paths, count), folder, workers=workers, threads=threads
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"cases": count, "scored": scored, "peak_rss_kib": peak, "rate": rate}))


def measure_rss(folder: Path, count: int, width: int) -> dict[str, float]:
    completed = subprocess.run(
        [
            sys.executable,
            __file__,
            "--rss-child",
            str(count),
            "--folder",
            str(folder),
            "--width",
            str(width),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    """Generate the DICOM set, run the three timings and the two memory runs, print figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=300, help="DICOM files to generate")
    parser.add_argument("--size", type=int, default=128, help="image side in pixels")
    parser.add_argument("--cases", type=int, default=1200, help="cases in the timed runs")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved repetitions")
    parser.add_argument(
        "--width", type=int, default=32, help="convolution channels (model cost; default ~ decode)"
    )
    parser.add_argument("--rss-child", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child is not None:
        rss_child(args.folder, args.rss_child, args.width)
        return 0
    with tempfile.TemporaryDirectory(prefix="dxval-bench-") as name:
        folder = Path(name)
        paths = write_dicom_files(folder, args.files, args.size)
        config = write_model(folder / "model.onnx", width=args.width)
        loader = CaseLoader(plain_steps(STEPS), expected_shape=config.input.case_shape)
        cases = case_list(paths, args.cases)
        workers, threads = split_cores()
        print(
            f"set: {args.files} DICOM files {args.size}x{args.size} uint16 → 1x64x64 float32, "
            f"{args.cases} cases; model: 3 convolutions x {args.width} channels (onnxruntime "
            f"CPU); decode workers {workers}, runtime threads {threads}, batch {BATCH_SIZE}"
        )
        rates: dict[str, list[float]] = {"decode": [], "runner": [], "harness": []}
        cpu: dict[str, list[float]] = {"runner": [], "harness": []}
        for _ in range(args.repeats):  # interleaved, so a busy moment hits every stage alike
            rates["decode"].append(time_decode(loader, cases, workers))
            rate, cpu_per_case = time_runner(config, loader, cases, threads)
            rates["runner"].append(rate)
            cpu["runner"].append(cpu_per_case)
            end_to_end, scored, cpu_per_case = run_end_to_end(
                config, loader, cases, folder, workers=workers, threads=threads
            )
            if scored != len(cases):
                raise RuntimeError(f"end to end scored {scored} of {len(cases)} cases")
            rates["harness"].append(end_to_end)
            cpu["harness"].append(cpu_per_case)
        decode, infer, end_to_end = (max(rates[key]) for key in ("decode", "runner", "harness"))
        slower = min(decode, infer)
        print(
            f"best of {args.repeats} (all runs: "
            + json.dumps(
                {key: [round(rate, 1) for rate in values] for key, values in rates.items()}
            )
            + ")"
        )
        print(f"decode+preprocess alone : {decode:8.1f} cases/s")
        print(f"runner alone (tensors)  : {infer:8.1f} cases/s")
        print(f"end-to-end harness      : {end_to_end:8.1f} cases/s")
        print(f"end-to-end / slower stage = {end_to_end / slower:.2f} (goal >= 0.85)")
        runner_cpu, harness_cpu = min(cpu["runner"]), min(cpu["harness"])
        print(
            f"main-process CPU per case: runner alone {runner_cpu * 1e6:.0f} µs, harness "
            f"{harness_cpu * 1e6:.0f} µs (pipeline overhead "
            f"{(harness_cpu - runner_cpu) * 1e6:+.0f} "
            f"µs/case; CPU time, less affected by other load than the rates)"
        )
        print(f"load average (1 min) now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        small = measure_rss(folder, 1000, args.width)
        large = measure_rss(folder, 5000, args.width)
        growth = large["peak_rss_kib"] / small["peak_rss_kib"] - 1.0
        for run in (small, large):
            print(
                f"peak RSS at {int(run['cases']):5d} cases: {run['peak_rss_kib'] / 1024:7.1f} MiB "
                f"({run['rate']:.1f} cases/s)"
            )
        print(f"peak RSS growth 1,000 → 5,000 cases = {growth:+.1%} (goal < 20%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
