"""A document's reading shared across listings and workers: kept in the verdict store.

A shop sends the same business licence with every product it lists. Its OCR reading
(`pipeline.document.DocumentReading`) depends only on the file's bytes and on `reading_key` (engine,
models, settings, reading code), so it is kept in the verdict store under (reading key, sha256)
and every worker of a cluster — whatever machine it runs on — reads that licence once.

Another process wrote the row, so nothing in it is executed or trusted as it is (issue 16): the row
is plain JSON (zlib-compressed) of the reading's dataclasses, numpy arrays as dtype + shape + bytes,
and it is decoded against the dataclasses' own type hints: an unknown class, a missing or extra
field, a value of the wrong type, an array of another dtype or shape is refused, and the row is
treated as absent (dropped, read again, written anew). The reading must be of the digest it is filed
under. With `ZIZHI_READING_SECRET` set, rows are also signed (HMAC-SHA256 over key, digest and
blob) and a row without a valid signature is never used: a well-formed reading forged by whoever
can write to the database is then refused too. Never pickle.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import logging
import math
import types
import typing
import zlib
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from operations.store import Store, readings, utcnow
from pipeline.capture_flags import Blob, PageSignals, SideSignal
from pipeline.display import visible
from pipeline.document import DocumentReading
from pipeline.geometry import Transform
from pipeline.models import ErrorItem
from pipeline.ocr.ctc import TextPosterior
from pipeline.preprocess import PageLine, PageReading
from pipeline.rereads import Reread
from pipeline.seals import Seal

log = logging.getLogger(__name__)

FORMAT = 1  # bump when the encoding (not the dataclasses: their code is in the reading key) changes
MAX_BLOB = 64 << 20  # decompressed bytes; a reading is tens of kB
CLASSES: dict[str, type] = {cls.__name__: cls for cls in (
    DocumentReading, PageReading, PageLine, Transform, PageSignals, SideSignal, Blob, Seal, TextPosterior, Reread)}
DTYPES = {"<f4", "<f8", "<i4", "<i8", "|u1", "|b1"}


class BadReading(ValueError):
    """A stored reading that does not decode to exactly a DocumentReading."""


# --- encoding --------------------------------------------------------------------------------

def _encode(value: Any) -> Any:
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$float": repr(value)}
    if isinstance(value, np.generic):
        return _encode(value.item())
    if isinstance(value, np.ndarray):
        arr = np.ascontiguousarray(value)
        if arr.dtype.str not in DTYPES:
            arr = arr.astype(np.float64)
        return {"$nd": arr.dtype.str, "shape": list(arr.shape), "b64": base64.b64encode(arr.tobytes()).decode()}
    if isinstance(value, ErrorItem):
        return {"$error": value.model_dump(mode="json")}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        name = type(value).__name__
        if CLASSES.get(name) is not type(value):
            raise TypeError(f"{name} is not part of a reading")
        return {"$": name, **{f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    if isinstance(value, tuple):
        return {"$tuple": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {"$map": [[_encode(k), _encode(v)] for k, v in value.items()]}
    raise TypeError(f"{type(value).__name__} is not part of a reading")


def encode_reading(reading: DocumentReading) -> bytes:
    """The reading as zlib-compressed JSON (no pickle: another process reads it)."""
    text = json.dumps(_encode(reading), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return zlib.compress(text.encode("utf-8"), 6)


# --- decoding, against the dataclasses' type hints -------------------------------------------------

_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _fail(path: str, message: str) -> typing.NoReturn:
    raise BadReading(f"{path}: {message}")


def _decode(value: Any, hint: Any, path: str) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any or hint in (list, dict, tuple, object):  # an untyped container slot: any reading part
        return _decode_untyped(value, hint, path)
    if origin in (typing.Union, types.UnionType):
        errors = []
        for option in args:
            try:
                return _decode(value, option, path)
            except BadReading as e:
                errors.append(str(e))
        _fail(path, "matches none of " + "; ".join(errors))
    if hint is type(None):
        if value is not None:
            _fail(path, "expected null")
        return None
    if hint is bool:
        if not isinstance(value, bool):
            _fail(path, "expected a boolean")
        return value
    if hint is int:
        if not isinstance(value, int) or isinstance(value, bool):
            _fail(path, "expected an integer")
        return value
    if hint is float:
        if isinstance(value, dict) and set(value) == {"$float"} and value["$float"] in ("nan", "inf", "-inf"):
            return float(value["$float"])
        if not isinstance(value, int | float) or isinstance(value, bool):
            _fail(path, "expected a number")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            _fail(path, "expected a string")
        return value
    if hint is np.ndarray:
        return _array(value, path)
    if hint is ErrorItem:
        if not isinstance(value, dict) or set(value) != {"$error"}:
            _fail(path, "expected an error item")
        try:
            return ErrorItem.model_validate(value["$error"])
        except ValueError as e:
            _fail(path, f"bad error item: {e}")
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _dataclass(value, hint, path)
    if origin is list:
        if not isinstance(value, list):
            _fail(path, "expected a list")
        return [_decode(v, args[0] if args else Any, f"{path}[{i}]") for i, v in enumerate(value)]
    if origin is tuple:
        if not isinstance(value, dict) or set(value) != {"$tuple"} or not isinstance(value["$tuple"], list):
            _fail(path, "expected a tuple")
        items = value["$tuple"]
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(v, args[0], f"{path}[{i}]") for i, v in enumerate(items))
        if args and len(items) != len(args):
            _fail(path, f"expected {len(args)} items, found {len(items)}")
        return tuple(_decode(v, a, f"{path}[{i}]") for i, (v, a) in enumerate(zip(items, args or [Any] * len(items))))
    if origin is dict:
        if not isinstance(value, dict) or set(value) != {"$map"} or not isinstance(value["$map"], list):
            _fail(path, "expected a mapping")
        key_hint, value_hint = args or (Any, Any)
        out = {}
        for i, pair in enumerate(value["$map"]):
            if not isinstance(pair, list) or len(pair) != 2:
                _fail(f"{path}[{i}]", "expected a key and a value")
            out[_decode(pair[0], key_hint, f"{path}[{i}].key")] = _decode(pair[1], value_hint, f"{path}[{i}]")
        return out
    _fail(path, f"cannot check a value of type {hint!r}")


def _decode_untyped(value: Any, hint: Any, path: str) -> Any:
    """A slot typed only `list` (DocumentReading.seals: lists of Seal): the value's own tag says what
    it is, and only a reading's own classes and plain values are accepted."""
    if isinstance(value, dict) and "$" in value:
        cls = CLASSES.get(value["$"]) if isinstance(value["$"], str) else None
        if cls is None:
            _fail(path, f"unknown class {visible(value['$'])!r}")
        return _dataclass(value, cls, path)
    if hint is list or (hint is Any and isinstance(value, list)):
        if not isinstance(value, list):
            _fail(path, "expected a list")
        return [_decode_untyped(v, Any, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    _fail(path, "expected a reading part")


def _dataclass(value: Any, cls: type, path: str) -> Any:
    if not isinstance(value, dict) or value.get("$") != cls.__name__:
        _fail(path, f"expected {cls.__name__}")
    hints = _hints(cls)
    names = [f.name for f in dataclasses.fields(cls) if f.init]
    given = set(value) - {"$"}
    if given != set(names):
        _fail(path, f"{cls.__name__} fields differ: {sorted(given ^ set(names))}")
    return cls(**{name: _decode(value[name], hints[name], f"{path}.{name}") for name in names})


def _array(value: Any, path: str) -> np.ndarray:
    if not isinstance(value, dict) or set(value) != {"$nd", "shape", "b64"}:
        _fail(path, "expected an array")
    dtype, shape = value["$nd"], value["shape"]
    if dtype not in DTYPES or not isinstance(shape, list) or len(shape) > 4 or \
            not all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= 1 << 24 for n in shape):
        _fail(path, "bad array dtype or shape")
    try:
        data = base64.b64decode(value["b64"], validate=True)
    except (ValueError, TypeError):
        _fail(path, "bad array data")
    if len(data) != math.prod(shape) * np.dtype(dtype).itemsize:
        _fail(path, "array data does not fit its shape")
    return np.frombuffer(data, dtype=np.dtype(dtype)).reshape(shape).copy()


def decode_reading(blob: bytes) -> DocumentReading:
    """The DocumentReading in `blob` (encode_reading's), or BadReading: corrupt, too large, or not
    exactly a reading."""
    try:
        inflater = zlib.decompressobj()
        text = inflater.decompress(blob, MAX_BLOB)
        if inflater.unconsumed_tail:
            raise BadReading("larger than a reading can be")
        raw = json.loads(text.decode("utf-8"))
    except (zlib.error, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise BadReading(f"not a stored reading: {type(e).__name__}: {e}") from None
    try:
        return _dataclass(raw, DocumentReading, "reading")
    except RecursionError:
        raise BadReading("nested too deep") from None
    except (TypeError, ValueError) as e:  # a constructor refusing what the hints let through
        if isinstance(e, BadReading):
            raise
        raise BadReading(f"does not build: {type(e).__name__}: {e}") from None


# --- the store's rows ------------------------------------------------------------------------

def _mac(secret: bytes, reading_key: str, sha256: str, blob: bytes) -> str:
    h = hmac.new(secret, digestmod=hashlib.sha256)
    for part in (f"zizhi-reading-v{FORMAT}", reading_key, sha256):
        h.update(part.encode() + b"\0")
    h.update(blob)
    return h.hexdigest()


class SharedReadings:
    """The readings kept in one verdict store. `secret` (ZIZHI_READING_SECRET): sign what is written,
    use only what is signed. Every failure of the database is logged and treated as a miss: this is a
    cache, a verdict never waits on it."""

    def __init__(self, store: Store, secret: bytes | None = None):
        self.store = store
        self.secret = secret or None
        self.hits = self.misses = self.refused = 0

    def get(self, reading_key: str, sha256: str) -> DocumentReading | None:
        try:
            with self.store.engine.connect() as conn:
                row = conn.execute(select(readings).where(readings.c.reading_key == reading_key,
                                                          readings.c.sha256 == sha256)).first()
        except SQLAlchemyError as e:
            log.warning("shared reading not looked up (%s): %s", self.store.name, visible(e))
            self.misses += 1
            return None
        if row is None:
            self.misses += 1
            return None
        try:
            reading = self._check(row, reading_key, sha256)
        except BadReading as e:
            log.warning("stored reading %s/%s refused, read again: %s", reading_key, sha256[:12], visible(e))
            self.refused += 1
            self._drop(row)
            return None
        self.hits += 1
        return reading

    def _check(self, row, reading_key: str, sha256: str) -> DocumentReading:
        if row.format != FORMAT:
            raise BadReading(f"format {row.format}, this code reads {FORMAT}")
        blob = bytes(row.data)
        if self.secret is not None and not (
                isinstance(row.mac, str) and hmac.compare_digest(row.mac, _mac(self.secret, reading_key, sha256, blob))):
            raise BadReading("no valid signature")
        reading = decode_reading(blob)
        if reading.sha256 != sha256:
            raise BadReading("a reading of other bytes than its key names")
        if reading.load_error is not None:
            raise BadReading("a failed load is never shared")
        return reading

    def _drop(self, row) -> None:
        try:
            with self.store.engine.begin() as conn:
                conn.execute(readings.delete().where(readings.c.reading_key == row.reading_key,
                                                     readings.c.sha256 == row.sha256,
                                                     readings.c.created_at == row.created_at))
        except SQLAlchemyError as e:
            log.warning("refused reading not dropped: %s", visible(e))

    def put(self, reading_key: str, reading: DocumentReading) -> bool:
        """Keep `reading` (of the bytes `reading.sha256`) unless one is kept already; False when not
        kept (a failed load, a row there, or the database refused)."""
        if reading.load_error is not None or len(reading.sha256) != 64:
            return False
        try:
            blob = encode_reading(reading)
        except (TypeError, ValueError) as e:
            log.warning("reading of %s not shared: %s", visible(reading.file), visible(e))
            return False
        mac = _mac(self.secret, reading_key, reading.sha256, blob) if self.secret is not None else None
        try:
            with self.store.engine.begin() as conn:
                conn.execute(readings.insert().values(reading_key=reading_key, sha256=reading.sha256, format=FORMAT,
                                                      size=len(blob), data=blob, mac=mac, created_at=utcnow()))
            return True
        except IntegrityError:
            return False  # another worker kept it first
        except SQLAlchemyError as e:
            log.warning("reading of %s not shared (%s): %s", visible(reading.file), self.store.name, visible(e))
            return False


def read_shared(shared: SharedReadings | None, reading_key: str, base_dir, ref, engine, settings,
                digest: str, read=None) -> DocumentReading:
    """The reading of `ref`'s bytes (which must have `digest`): from `shared` when kept there, else
    read now (`read`, default pipeline.document.read_document) and kept for the next listing that
    carries them."""
    from pathlib import Path

    if read is None:
        from pipeline.document import read_document as read

    if shared is not None and (kept := shared.get(reading_key, digest)) is not None:
        kept.file = ref.file  # the same bytes, perhaps uploaded under another name
        return kept
    reading = read(Path(base_dir), ref, engine, settings, expect_digest=digest)
    if shared is not None:
        shared.put(reading_key, reading)
    return reading
