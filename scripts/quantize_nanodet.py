#!/usr/bin/env python3
"""Make the int8 NanoDet of ``models/nanodet-m-416-coco/`` from the bundled float model.

What it does (provenance of ``nanodet-m-coco-int8.onnx``; see that folder's SOURCE.md):

1. reads ``nanodet-m-416-coco.onnx`` (float32, input fixed at 1x3x416x416) and frees the input's
   height and width (the graph has no fixed-size reshape: its Resize ops scale by factors and its
   output reshapes take their shape from the tensors), so the model runs at any multiple of 32,
   for example 416x256 for a 16:9 picture instead of squashing it into a square;
2. calibrates on frames of the bundled clips (``data/video/intel-sample-videos/*.mp4``, every
   clip's frames evenly spaced, resized as the detector resizes them: width 416, height by the
   clip's aspect rounded up to a multiple of 32);
3. quantises with onnxruntime's static quantisation: QOperator format (QLinearConv), weights int8
   per channel with ``reduce_range`` (7-bit, so the u8 x s8 kernels of CPUs without VNNI cannot
   saturate), activations uint8 from the calibration's ranges.

Needs the ``onnx`` package (a dev dependency; the product only runs the result). The same inputs
give the same file: calibration frames and their order are fixed, and MinMax calibration has no
randomness. Usage::

    .venv/bin/python scripts/quantize_nanodet.py            # writes models/.../nanodet-m-coco-int8.onnx
    .venv/bin/python scripts/quantize_nanodet.py --out /tmp/x.onnx --frames 40
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import av
import cv2
import numpy as np
import onnx
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_static,
)
from onnxruntime.quantization.shape_inference import quant_pre_process

from safecity.monitor.vision.detect import nanodet_input_size

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "models" / "nanodet-m-416-coco"
SOURCE = FOLDER / "nanodet-m-416-coco.onnx"
OUT = FOLDER / "nanodet-m-coco-int8.onnx"
CLIPS = sorted((ROOT / "data" / "video" / "intel-sample-videos").glob("*.mp4"))
MEAN = (103.53, 116.28, 123.675)
STD = np.array([57.375, 57.12, 58.395], np.float32).reshape(1, 3, 1, 1)
WIDTH = 416


def blob(bgr: np.ndarray) -> np.ndarray:
    """The detector's pre-processing (safecity.monitor.vision.detect.NanoDetDetector) at its input
    size. Written as a division where the detector multiplies by the reciprocal (at most one float
    step apart): this is what the shipped model was calibrated on, so the script remakes it byte
    for byte."""
    size = nanodet_input_size(bgr.shape[1], bgr.shape[0], WIDTH)
    out = cv2.dnn.blobFromImage(bgr, 1.0, size, MEAN, swapRB=False, crop=False)
    return (out / STD).astype(np.float32)


def calibration_frames(per_clip: int) -> list[np.ndarray]:
    """``per_clip`` frames of each bundled clip, evenly spaced over the clip."""
    frames: list[np.ndarray] = []
    for clip in CLIPS:
        with av.open(str(clip)) as container:
            stream = container.streams.video[0]
            total = stream.frames
            pick = {round(i * (total - 1) / max(1, per_clip - 1)) for i in range(per_clip)}
            for i, frame in enumerate(container.decode(stream)):
                if i in pick:
                    frames.append(frame.to_ndarray(format="bgr24"))
    return frames


class _Reader(CalibrationDataReader):  # type: ignore[misc]
    def __init__(self, name: str, frames: list[np.ndarray]) -> None:
        self._it: Iterator[dict[str, np.ndarray]] = iter([{name: blob(f)} for f in frames])

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._it, None)


def free_input_size(model: onnx.ModelProto) -> None:
    """Input height/width and every output dimension symbolic (the graph computes them)."""
    dims = model.graph.input[0].type.tensor_type.shape.dim
    dims[2].dim_param, dims[3].dim_param = "height", "width"
    for out in model.graph.output:
        for i, dim in enumerate(out.type.tensor_type.shape.dim):
            dim.dim_param = f"{out.name.split(':')[0]}_{i}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=OUT, help=f"where to write (default {OUT.relative_to(ROOT)})")
    ap.add_argument("--frames", type=int, default=60, help="calibration frames per clip (default 60)")
    ap.add_argument("--method", choices=["minmax", "percentile", "entropy"], default="minmax")
    args = ap.parse_args(argv)
    if not CLIPS:
        print(f"no clips under {ROOT / 'data/video/intel-sample-videos'}", file=sys.stderr)
        return 2
    model = onnx.load(str(SOURCE))
    free_input_size(model)
    name = model.graph.input[0].name
    frames = calibration_frames(args.frames)
    print(f"{len(frames)} calibration frames from {len(CLIPS)} clips", file=sys.stderr)
    method = {
        "minmax": CalibrationMethod.MinMax,
        "percentile": CalibrationMethod.Percentile,
        "entropy": CalibrationMethod.Entropy,
    }[args.method]
    with tempfile.TemporaryDirectory() as tmp:
        free = Path(tmp) / "free.onnx"
        pre = Path(tmp) / "pre.onnx"
        onnx.save(model, str(free))
        quant_pre_process(str(free), str(pre), skip_symbolic_shape=True)
        with warnings.catch_warnings():
            # onnxruntime divides by a zero range for all-zero weight channels before it clamps the
            # result (the written model has no zero scale and no NaN: checked by the provenance test)
            warnings.simplefilter("ignore", RuntimeWarning)
            _quantize(pre, args.out, name, frames, method)
    digest = hashlib.sha256(args.out.read_bytes()).hexdigest()
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes), sha256 {digest}")
    return 0


def _quantize(pre: Path, out: Path, name: str, frames: list[np.ndarray], method: CalibrationMethod) -> None:
    quantize_static(
        str(pre),
        str(out),
        _Reader(name, frames),
        quant_format=QuantFormat.QOperator,
        per_channel=True,
        reduce_range=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        calibrate_method=method,
    )


if __name__ == "__main__":
    raise SystemExit(main())
