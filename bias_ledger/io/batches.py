"""Compact columns gathered batch by batch: one shared dictionary with the narrowest indices,
and integers in the narrowest type that holds them, so a whole file is never held wide."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

# Past this many distinct values a column is probably an id: unifying batch by batch would
# rebuild an ever larger hash table per batch, so its batches are kept as read instead.
SHARED_LIMIT = 1 << 15


def _index_type(size: int) -> Any:
    import pyarrow as pa

    if size <= 1 << 7:
        return pa.int8()
    if size <= 1 << 15:
        return pa.int16()
    return pa.int32()


def _narrow_type(chunk: Any) -> Any:
    """The narrowest signed integer type holding every value of an integer ``chunk``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    bounds = pc.min_max(chunk).as_py()
    low, high = bounds["min"], bounds["max"]
    if low is None:
        return pa.int8()
    for kind, bits in ((pa.int8(), 8), (pa.int16(), 16), (pa.int32(), 32)):
        if -(1 << (bits - 1)) <= low and high < 1 << (bits - 1):
            return kind
    return chunk.type


class _Shared:
    """The chunks of one dictionary column, re-coded into one dictionary shared by all."""

    def __init__(self) -> None:
        self.values: Any = None
        self.indices: list[Any] = []
        self.raw: list[Any] = []

    def add(self, chunk: Any) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        if self.raw or not pa.types.is_dictionary(chunk.type):
            self.raw.append(chunk)
            return
        local = chunk.dictionary
        if self.values is None:
            self.values = local.slice(0, 0)
        position = pc.index_in(local, value_set=self.values)
        if position.null_count:
            grown = pa.concat_arrays([self.values, local.filter(position.is_null())])
            if len(grown) > SHARED_LIMIT:
                self._give_up(chunk)
                return
            self.values = grown
            position = pc.index_in(local, value_set=self.values)
        kind = _index_type(len(self.values))
        if self.indices and self.indices[0].type != kind:
            self.indices = [pc.cast(old, kind) for old in self.indices]
        self.indices.append(pc.take(pc.cast(position, kind), chunk.indices))

    def _give_up(self, chunk: Any) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        kind = chunk.type.index_type
        self.raw = [
            pa.DictionaryArray.from_arrays(pc.cast(old, kind), self.values) for old in self.indices
        ]
        self.raw.append(chunk)
        self.indices = []

    def chunks(self) -> list[Any]:
        import pyarrow as pa

        if self.raw:
            return self.raw
        return [pa.DictionaryArray.from_arrays(old, self.values) for old in self.indices]


def _narrowed(chunks: list[Any], original: Any) -> list[Any]:
    """Chunks narrowed one by one, cast to the widest of their types to form one column.

    A chunk that could not be narrowed keeps the ``original`` type, which then holds them all
    (an unsigned type's large values fit no signed type of its width).
    """
    types = {chunk.type for chunk in chunks}
    if len(types) < 2:
        return chunks
    widest = original if original in types else max(types, key=lambda kind: kind.bit_width)
    return [chunk if chunk.type == widest else chunk.cast(widest) for chunk in chunks]


def compact_table(
    batches: Iterable[Any],
    schema: Any,
    columns: Sequence[str],
    *,
    shared: Sequence[str] = (),
    narrow: Sequence[str] = (),
) -> Any:
    """A table of ``columns`` from record ``batches``, converted as each batch arrives.

    Dictionary columns in ``shared`` are re-coded to one dictionary (indices as narrow as its
    size allows); integer columns in ``narrow`` get the narrowest type holding all their values.
    Values and order are those of the batches: only the physical types change.
    """
    import pyarrow as pa

    recoded = {name: _Shared() for name in shared}
    pieces: dict[str, list[Any]] = {name: [] for name in columns if name not in recoded}
    originals: dict[str, Any] = {}
    for batch in batches:
        for name in columns:
            chunk = batch.column(name)
            if name in recoded:
                recoded[name].add(chunk)
            elif name in narrow and pa.types.is_integer(chunk.type):
                originals.setdefault(name, chunk.type)
                pieces[name].append(chunk.cast(_narrow_type(chunk)))
            else:
                pieces[name].append(chunk)
    arrays = {}
    for name in columns:
        if name in recoded:
            chunks = recoded[name].chunks()
        else:
            chunks = _narrowed(pieces.pop(name), originals.get(name))
        if not chunks:
            return schema.empty_table().select(list(columns))
        if len(chunks) > 1:
            # One buffer per column: the columns' batches would otherwise share allocator
            # pages, none of which returns to the system until every column is dropped.
            chunks = [pa.concat_arrays(chunks)]
        arrays[name] = pa.chunked_array(chunks)
    return pa.table(arrays)
