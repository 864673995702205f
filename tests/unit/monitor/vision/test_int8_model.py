"""The bundled int8 NanoDet is what scripts/quantize_nanodet.py makes from the bundled float model
and the bundled clips (provenance), and SOURCE.md names its checksum."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

from safecity.paths import bundled_models_dir

SCRIPT = Path(__file__).resolve().parents[4] / "scripts" / "quantize_nanodet.py"
FOLDER = bundled_models_dir() / "nanodet-m-416-coco"


def test_bundled_int8_model_is_the_generated_one(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("quantize_nanodet", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "int8.onnx"
    assert module.main(["--out", str(out)]) == 0
    bundled = FOLDER / "nanodet-m-coco-int8.onnx"
    if out.read_bytes() != bundled.read_bytes():
        # another CPU's float kernels may move a calibration range in its last bits: then every
        # tensor must still match (weights exactly, scales to 1e-4, zero points to one step)
        made, shipped = (_initializers(p) for p in (out, bundled))
        assert made.keys() == shipped.keys()
        for name, arr in shipped.items():
            if arr.dtype.kind == "f":
                np.testing.assert_allclose(made[name], arr, rtol=1e-4, err_msg=name)
            else:
                assert np.abs(made[name].astype(np.int64) - arr.astype(np.int64)).max(initial=0) <= 1, name
    digest = hashlib.sha256(bundled.read_bytes()).hexdigest()
    assert digest in (FOLDER / "SOURCE.md").read_text(encoding="utf-8")


def _initializers(path: Path) -> dict[str, np.ndarray]:
    model = onnx.load(str(path))
    return {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
