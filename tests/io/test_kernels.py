"""bias_ledger.io.kernels gives what pyarrow.compute gives (the kernels it calls by name)."""

from __future__ import annotations

import random
import sys

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from bias_ledger.io import kernels


def _arrays(seed: int) -> list[pa.Array]:
    rng = random.Random(seed)
    size = rng.randint(0, 50)

    def maybe(value: object) -> object:
        return None if rng.random() < 0.2 else value

    return [
        pa.array([maybe(rng.randint(-5, 5)) for _ in range(size)], pa.int64()),
        pa.array([maybe(rng.choice([0.5, -1.0, float("nan"), 3.0])) for _ in range(size)]),
        pa.array([maybe(rng.choice("abc")) for _ in range(size)], pa.string()),
        pa.array([maybe(rng.random() < 0.5) for _ in range(size)], pa.bool_()),
    ]


def _same(found: pa.Array, expected: pa.Array) -> bool:
    """Equal arrays, NaN equal to NaN (Arrow's ``equals`` says NaN differs from itself)."""
    if found.type != expected.type:
        return False
    if isinstance(found, pa.DictionaryArray):
        return _same(found.indices, expected.indices) and _same(
            found.dictionary, expected.dictionary
        )
    return repr(found.to_pylist()) == repr(expected.to_pylist())


@pytest.fixture(params=["pyarrow._compute", "pyarrow.compute"])
def kernel_module(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each kernel run from ``pyarrow._compute``, and again as if a pyarrow release had moved
    that private module (its import fails; ``pyarrow.compute``, imported above, stands in)."""
    if request.param == "pyarrow.compute":
        monkeypatch.setitem(sys.modules, "pyarrow._compute", None)
    assert kernels._kernels().__name__ == request.param
    return str(request.param)


@pytest.mark.parametrize("seed", range(8))
def test_each_kernel_equals_pyarrow_compute(seed: int, kernel_module: str) -> None:
    rng = random.Random(seed)
    for data in _arrays(seed):
        assert kernels.min_max(data) == pc.min_max(data).as_py()
        assert _same(kernels.dictionary_encode(data), data.dictionary_encode())
        indices = pa.array([rng.randrange(len(data)) for _ in range(10)] if len(data) else [])
        assert _same(kernels.take(data, indices), data.take(indices))
        if len(data):
            fill = data.drop_null()[0] if data.null_count < len(data) else None
            if fill is not None:
                assert _same(kernels.fill_null(data, fill), pc.fill_null(data, fill))
                assert _same(kernels.fill_null(data, fill.as_py()), pc.fill_null(data, fill))
        if pa.types.is_floating(data.type):
            assert _same(kernels.is_nan(data), pc.is_nan(data))
        condition = pa.array([rng.random() < 0.5 for _ in range(len(data))])
        assert _same(
            kernels.if_else(condition, data, data[::-1]), pc.if_else(condition, data, data[::-1])
        )
        if pa.types.is_integer(data.type):
            assert _same(kernels.cast(data, pa.float64()), data.cast(pa.float64()))


def test_cast_is_safe_as_pyarrows(kernel_module: str) -> None:
    with pytest.raises(pa.ArrowInvalid):
        kernels.cast(pa.array([300]), pa.int8())
    with pytest.raises(pa.ArrowInvalid):
        kernels.cast(pa.array([1.5]), pa.int64())
    with pytest.raises(IndexError):
        kernels.take(pa.array([1, 2]), pa.array([5]))
