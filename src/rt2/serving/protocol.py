"""Wire formats and request validation for the policy server.

Two encodings of the same messages:

- **msgpack-numpy** (openpi): arrays are maps ``{b"__ndarray__": True, b"data": bytes,
  b"dtype": "<f4", b"shape": [..]}`` and numpy scalars ``{b"__npgeneric__": True, ...}``. This is
  what ``openpi_client.msgpack_numpy`` writes, so the unmodified openpi client talks to us.
- **json-numpy** (OpenVLA deploy server): arrays are objects ``{"__numpy__": base64,
  "dtype": "|u1", "shape": [..]}`` (the ``json_numpy`` package's format).

Decoding is strict: only bool/int/uint/float arrays whose byte count matches their shape are
accepted (never object arrays, never pickle), and every problem is a :class:`RequestError` whose
message names the field and the bad value.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass
from typing import Any

import msgpack
import numpy as np

from rt2.observations import camera_mismatch

# ---- errors -------------------------------------------------------------------------------

#: error kind -> HTTP status
ERROR_STATUS: dict[str, int] = {
    "decode_error": 400,
    "invalid_observation": 422,
    "unauthorized": 401,
    "payload_too_large": 413,
    "request_timeout": 408,
    "too_many_connections": 503,
    "inference_error": 500,
    "shutting_down": 503,
}


class RequestError(Exception):
    """A request the server refuses; ``kind`` is a key of :data:`ERROR_STATUS`."""

    def __init__(self, kind: str, message: str) -> None:
        if kind not in ERROR_STATUS:
            raise ValueError(
                f"RequestError kind: expected one of {sorted(ERROR_STATUS)}, got {kind!r}"
            )
        super().__init__(message)
        self.kind = kind
        self.message = message

    @property
    def status(self) -> int:
        return ERROR_STATUS[self.kind]

    def to_dict(self) -> dict[str, str]:
        return {"error": self.kind, "message": self.message}

    def to_text(self) -> str:
        """The websocket error frame: JSON text (openpi clients raise it as RuntimeError)."""
        return json.dumps(self.to_dict())


# ---- arrays -------------------------------------------------------------------------------
_ALLOWED_KINDS = "biuf"  # bool, int, uint, float: never object / void / complex


def _array_from_bytes(data: Any, dtype: Any, shape: Any, where: str) -> np.ndarray:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise RequestError(
            "decode_error", f"{where}: array data must be bytes, got {type(data).__name__}"
        )
    if not isinstance(dtype, str | bytes):
        raise RequestError("decode_error", f"{where}: array dtype must be a string, got {dtype!r}")
    try:
        dt = np.dtype(dtype.decode() if isinstance(dtype, bytes) else dtype)
    except (TypeError, ValueError) as err:
        raise RequestError("decode_error", f"{where}: unknown array dtype {dtype!r}") from err
    if dt.kind not in _ALLOWED_KINDS or dt.fields is not None or dt.subdtype is not None:
        raise RequestError(
            "decode_error",
            f"{where}: array dtype {dt.str!r} is not allowed (bool/int/uint/float only)",
        )
    if not isinstance(shape, list | tuple) or not all(
        isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape
    ):
        raise RequestError(
            "decode_error", f"{where}: array shape must be non-negative ints, got {shape!r}"
        )
    if len(shape) > 8:
        raise RequestError("decode_error", f"{where}: array has {len(shape)} dims (at most 8)")
    count = math.prod(shape)
    if count * dt.itemsize != len(data):
        raise RequestError(
            "decode_error",
            f"{where}: array of shape {tuple(shape)} and dtype {dt.str} needs {count * dt.itemsize} "
            f"bytes, got {len(data)}",
        )
    return np.frombuffer(data, dtype=dt).reshape(shape)


def _pack_default(obj: Any) -> Any:
    if isinstance(obj, np.ndarray | np.generic) and obj.dtype.kind not in _ALLOWED_KINDS:
        raise TypeError(f"cannot send arrays of dtype {obj.dtype}")
    if isinstance(obj, np.ndarray):
        arr = np.ascontiguousarray(obj)
        return {
            b"__ndarray__": True,
            b"data": arr.tobytes(),
            b"dtype": arr.dtype.str,
            b"shape": arr.shape,
        }
    if isinstance(obj, np.generic):
        return {b"__npgeneric__": True, b"data": obj.item(), b"dtype": obj.dtype.str}
    raise TypeError(f"cannot send {type(obj).__name__}")


def _msgpack_hook(obj: dict) -> Any:
    if b"__ndarray__" in obj:
        return _array_from_bytes(obj.get(b"data"), obj.get(b"dtype"), obj.get(b"shape"), "ndarray")
    if b"__npgeneric__" in obj:
        arr = _array_from_bytes(b"", obj.get(b"dtype"), [0], "npgeneric")
        try:
            return arr.dtype.type(obj.get(b"data"))
        except (TypeError, ValueError, OverflowError) as err:
            raise RequestError(
                "decode_error", f"npgeneric: bad value {obj.get(b'data')!r}"
            ) from err
    return obj


def packb(obj: Any) -> bytes:
    """msgpack-numpy bytes (openpi's format)."""
    return msgpack.packb(obj, default=_pack_default)


def unpackb(data: bytes) -> Any:
    """Decode msgpack-numpy bytes; anything malformed is a ``decode_error``."""
    try:
        return msgpack.unpackb(data, object_hook=_msgpack_hook, raw=False, strict_map_key=False)
    except RequestError:
        raise
    except Exception as err:  # msgpack raises many types (ExtraData, FormatError, ValueError, ...)
        raise RequestError(
            "decode_error", f"payload is not valid msgpack ({type(err).__name__}: {err})"
        ) from err


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.ndarray | np.generic):
        arr = np.ascontiguousarray(obj)
        return {
            "__numpy__": base64.b64encode(arr.tobytes()).decode(),
            "dtype": arr.dtype.str,
            "shape": list(arr.shape),
        }
    raise TypeError(f"cannot encode {type(obj).__name__} as JSON")


def _json_hook(obj: dict) -> Any:
    if "__numpy__" not in obj:
        return obj
    raw = obj["__numpy__"]
    if not isinstance(raw, str):
        raise RequestError("decode_error", "__numpy__: expected a base64 string")
    try:
        data = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as err:
        raise RequestError("decode_error", f"__numpy__: invalid base64 ({err})") from err
    shape = obj.get("shape")
    arr = _array_from_bytes(data, obj.get("dtype"), shape, "__numpy__")
    return arr if shape else arr.reshape(())[()]


def json_dumps(obj: Any) -> str:
    """JSON text with numpy arrays in json-numpy form."""
    return json.dumps(obj, default=_json_default, allow_nan=False)


def json_loads(text: str | bytes) -> Any:
    """Decode JSON with json-numpy arrays; OpenVLA's ``{"encoded": "<json>"}`` wrapper is unwrapped."""
    try:
        obj = json.loads(text, object_hook=_json_hook)
        if isinstance(obj, dict) and set(obj) == {"encoded"} and isinstance(obj["encoded"], str):
            obj = json.loads(obj["encoded"], object_hook=_json_hook)
    except RequestError:
        raise
    except (ValueError, TypeError, RecursionError) as err:
        raise RequestError("decode_error", f"payload is not valid JSON ({err})") from err
    return obj


# ---- observations -------------------------------------------------------------------------
OBS_FIELDS = ("image", "images", "instruction", "state")
#: accepted aliases: openpi's ``prompt`` for the instruction, LeRobot's and openpi's names of
#: the state; OpenVLA's ``unnorm_key`` is ignored
OBS_ALIASES = {"prompt": "instruction", "observation.state": "state", "observation/state": "state"}
IGNORED_FIELDS = ("unnorm_key",)


@dataclass(frozen=True)
class ObservationLimits:
    """Bounds on what an observation may contain."""

    min_image_side: int = 8
    max_image_side: int = 2048
    max_instruction_chars: int = 2000
    max_state_dim: int = 512

    def __post_init__(self) -> None:
        for name in ("min_image_side", "max_image_side", "max_instruction_chars", "max_state_dim"):
            if getattr(self, name) < 1:
                raise ValueError(
                    f"ObservationLimits.{name}: expected >= 1, got {getattr(self, name)}"
                )
        if self.min_image_side > self.max_image_side:
            raise ValueError(
                f"ObservationLimits.min_image_side: {self.min_image_side} > "
                f"max_image_side {self.max_image_side}"
            )


@dataclass(frozen=True)
class ObservationSpec:
    """What the served policy reads: its cameras by name, in order (empty or one: a single
    ``image`` also serves), and its state's entry names (empty: it does not read the state)."""

    cameras: tuple[str, ...] = ()
    state_names: tuple[str, ...] = ()

    @classmethod
    def from_metadata(cls, meta: dict[str, Any]) -> ObservationSpec:
        """From the server metadata's ``cameras`` and ``state`` (see ``policy_metadata``)."""
        state = meta.get("state") or {}
        return cls(tuple(meta.get("cameras") or ()), tuple(state.get("names") or ()))

    def camera_keys(self) -> dict[str, str]:
        """Top-level keys that carry a camera -> its name: the name (``observation.images.
        front``) and openpi's slash form (``observation/images/front``)."""
        return {k: c for c in self.cameras for k in (c, c.replace(".", "/"))}


def _invalid(message: str) -> RequestError:
    return RequestError("invalid_observation", message)


def _image(image: Any, where: str, limits: ObservationLimits) -> np.ndarray:
    if not isinstance(image, np.ndarray):
        raise _invalid(f"{where}: expected a uint8 array (H, W, 3), got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise _invalid(f"{where}: expected dtype uint8, got {image.dtype}")
    if image.ndim != 3 or image.shape[-1] != 3:
        raise _invalid(f"{where}: expected shape (H, W, 3), got {image.shape}")
    lo, hi = limits.min_image_side, limits.max_image_side
    if not (lo <= image.shape[0] <= hi and lo <= image.shape[1] <= hi):
        raise _invalid(f"{where}: sides must be in [{lo}, {hi}], got shape {image.shape}")
    return np.array(image, copy=True)


def _key(k: Any) -> Any:
    return k.decode() if isinstance(k, bytes) else k


def _cameras(obs: dict[str, Any], spec: ObservationSpec, limits: ObservationLimits) -> dict:
    """``{"image": ...}`` or ``{"images": {name: ...}}`` checked against the policy's cameras."""
    named = {spec.camera_keys()[k]: v for k, v in obs.items() if k in spec.camera_keys()}
    if "images" in obs:
        if not isinstance(obs["images"], dict):
            raise _invalid(
                f"images: expected a map camera name -> image, got {type(obs['images']).__name__}"
            )
        given = {str(_key(k)): v for k, v in obs["images"].items()}
        named |= given
    if "image" in obs and obs["image"] is not None:
        if len(spec.cameras) > 1 or named:
            raise _invalid(
                f"image: this policy sees cameras {list(spec.cameras)}; send each by name "
                f"(images: {{name: image}}), not one unnamed 'image'"
            )
        return {"image": _image(obs["image"], "image", limits)}
    if not named:
        want = list(spec.cameras) if len(spec.cameras) > 1 else ["image"]
        raise _invalid(f"missing field(s) {want}; got {sorted(map(str, obs))}")
    want = list(spec.cameras) if spec.cameras else list(named)[:1]
    if (mismatch := camera_mismatch(want, list(named))) is not None:
        raise _invalid(f"cameras: this policy sees {want}; {mismatch}")
    images = {c: _image(named[c], f"images[{c!r}]", limits) for c in want}
    return {"image": images[want[0]]} if len(want) == 1 else {"images": images}


def validate_observation(
    raw: Any,
    limits: ObservationLimits = ObservationLimits(),
    spec: ObservationSpec = ObservationSpec(),
) -> dict[str, Any]:
    """A decoded request -> ``{"image": uint8 (H, W, 3)`` (or ``"images": {camera: image}``
    for a policy that sees several cameras), ``"instruction": str[, "state": float32 (S,)]}``,
    checked against the policy's ``spec``."""
    if not isinstance(raw, dict):
        raise _invalid(
            f"observation must be a map with keys {list(OBS_FIELDS)}, got {type(raw).__name__}"
        )
    raw = {_key(k): v for k, v in raw.items()}
    known = set(OBS_FIELDS) | set(OBS_ALIASES) | set(IGNORED_FIELDS) | set(spec.camera_keys())
    unknown = sorted(str(k) for k in raw if k not in known)
    if unknown:
        accepted = list(OBS_FIELDS) + list(spec.camera_keys())
        raise _invalid(f"unknown field(s) {unknown}; accepted fields: {accepted}")
    obs = {OBS_ALIASES.get(k, k): v for k, v in raw.items() if k not in IGNORED_FIELDS}
    if sum(k in raw for k in ("prompt", "instruction")) > 1:
        raise _invalid("give either 'instruction' or 'prompt', not both")
    if sum(k in raw for k in ("state", *(a for a, v in OBS_ALIASES.items() if v == "state"))) > 1:
        raise _invalid("give the state once: 'state', 'observation.state' or 'observation/state'")
    if "instruction" not in obs:
        raise _invalid(f"missing field(s) ['instruction']; got {sorted(raw)}")
    out = _cameras(obs, spec, limits)

    instruction = obs["instruction"]
    if isinstance(instruction, bytes):
        try:
            instruction = instruction.decode()
        except UnicodeDecodeError as err:
            raise _invalid("instruction: bytes that are not UTF-8") from err
    if not isinstance(instruction, str):
        raise _invalid(f"instruction: expected a string, got {type(instruction).__name__}")
    if not instruction.strip():
        raise _invalid("instruction: empty")
    if len(instruction) > limits.max_instruction_chars:
        raise _invalid(
            f"instruction: {len(instruction)} characters, at most {limits.max_instruction_chars}"
        )
    out["instruction"] = instruction

    if "state" in obs and obs["state"] is not None:
        out["state"] = _state(obs["state"], limits)
    names = list(spec.state_names)
    if names and "state" not in out:
        raise _invalid(
            f"missing field(s) ['state']: this policy reads {len(names)} entries {names}"
        )
    if names and out["state"].shape != (len(names),):
        raise _invalid(
            f"state: this policy reads {len(names)} entries {names}; got shape {out['state'].shape}"
        )
    return out


def _state(state: Any, limits: ObservationLimits) -> np.ndarray:
    if isinstance(state, list | tuple):
        state = np.asarray(state) if all(isinstance(v, int | float) for v in state) else state
    if not isinstance(state, np.ndarray) or state.dtype.kind not in "iuf":
        raise _invalid(f"state: expected a numeric array (S,), got {type(state).__name__}")
    if state.ndim != 1 or state.shape[0] > limits.max_state_dim:
        raise _invalid(
            f"state: expected shape (S,) with S <= {limits.max_state_dim}, got {state.shape}"
        )
    state = state.astype(np.float32)
    if not np.all(np.isfinite(state)):
        bad = np.flatnonzero(~np.isfinite(state)).tolist()
        raise _invalid(f"state: non-finite values (NaN/inf) at indices {bad[:8]}")
    return state


# ---- control messages (websocket) ---------------------------------------------------------
CONTROL_KEY = "__control__"
CONTROLS = ("reset",)


def parse_control(msg: dict[str, Any]) -> tuple[str, int]:
    """``{"__control__": "reset", "seed": 3}`` -> ("reset", 3)."""
    action = msg.get(CONTROL_KEY)
    if action not in CONTROLS:
        raise RequestError(
            "decode_error", f"{CONTROL_KEY}: expected one of {list(CONTROLS)}, got {action!r}"
        )
    extra = sorted(str(k) for k in msg if k not in (CONTROL_KEY, "seed"))
    if extra:
        raise RequestError("decode_error", f"control message: unknown field(s) {extra}")
    seed = msg.get("seed", 0)
    if isinstance(seed, np.integer):
        seed = int(seed)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise RequestError(
            "decode_error", f"control message: seed must be an int >= 0, got {seed!r}"
        )
    return action, seed
