"""Units of work of a cluster run: a shard file, or a chunk of rows of a large one."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from galview.core.errors import UserFacingError
from galview.io.cluster_runs import SHARD_OUTPUTS
from galview.io.shards import ShardSet


@dataclass(frozen=True)
class ShardUnit:
    """One task: rows [start, stop) of shard file ``path`` (``stop`` None: to the end of the file).

    Plain values only, so that Dask ships it to any worker, which opens the shard itself.
    """

    shard: int
    name: str
    path: str
    start: int
    stop: int | None
    output: str
    options: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        """The shard's name, with the rows when the unit is a chunk of it."""
        return self.name if self.stop is None else f"{self.name}[{self.start}:{self.stop}]"


@dataclass
class PlannedUnits:
    """The units to run, in catalogue order, and the shards that failed while planning."""

    units: list[ShardUnit]
    failed: list[dict]


def output_name(name: str, start: int, stop: int | None) -> str:
    """File name of a unit's output: ``NAME.h5`` for a whole shard, ``NAME.START-STOP.h5`` for a chunk."""
    flat = name.replace("/", "__")
    return f"{flat}.h5" if stop is None else f"{flat}.{start:010d}-{stop:010d}.h5"


def plan_units(shards: ShardSet, out_dir: str | Path, chunk_size: int = 0) -> PlannedUnits:
    """One unit per shard, or, with ``chunk_size`` > 0, one per ``chunk_size`` rows of each shard.

    Chunking opens each shard here (metadata only) to count its cutouts; a shard that cannot be
    opened is listed as failed with the reason, naming the file.
    """
    folder = Path(out_dir) / SHARD_OUTPUTS
    units, failed = [], []
    for shard, (name, path) in enumerate(zip(shards.names, shards.paths, strict=True)):
        spans = [(0, None)]
        if chunk_size > 0:
            try:
                with shards.open_shard(shard) as collection:
                    n = len(collection)
            except UserFacingError as exc:
                failed.append({"shard": name, "path": path, "reason": str(exc)})
                continue
            spans = [(start, min(start + chunk_size, n)) for start in range(0, n, chunk_size)]
            if len(spans) == 1:
                spans = [(0, None)]
        for start, stop in spans:
            output = folder / output_name(name, start, stop)
            units.append(ShardUnit(shard, name, path, start, stop, str(output), dict(shards.options)))
    return PlannedUnits(units, failed)
