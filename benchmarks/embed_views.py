"""Embeddings of a collection in several orientations: a million real-model vectors from fewer cutouts.

    python benchmarks/embed_views.py SCORES.h5 DATA.h5 -o VIEWS.h5 [--views 1,2,3,4] [--model MODEL]

Simulating a million distinct cutouts takes about 35 minutes of both cores here, and the benchmark file
``bench_data/million.h5`` holds only 8,192 distinct images repeated (its embeddings tie by the hundred,
which flatters any search). This script writes the ``embeddings`` already in ``SCORES.h5`` (a ``galview
score`` output of ``DATA.h5``) followed by those of every cutout of ``DATA.h5`` turned by each of
``--views`` (:func:`galview.ml.augment.dihedral` codes: 1–3 quarter turns, 4–7 flipped), for
``bench_similarity.py --embeddings VIEWS.h5``. A CNN is not rotation-invariant, so each view's embedding
is a different vector; each query's own views may still be among its nearest neighbours (at most
``len(views)`` of the top k).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import h5py
import numpy as np

from galview.assets import default_model_path
from galview.ml.augment import dihedral
from galview.ml.loading import load_model
from galview.ml.similarity import embedding_space


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scores", type=Path, help="galview score output (.h5) of DATA")
    parser.add_argument("data", type=Path, help="HDF5 collection with an 'images' dataset")
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--views", default="1,2,3,4")
    parser.add_argument("--model", type=Path, default=default_model_path())
    parser.add_argument("--batch-size", type=int, default=1024)
    args = parser.parse_args()
    views = [int(v) for v in args.views.split(",")]
    embed = embedding_space(load_model(args.model), batch_size=args.batch_size).features
    started = time.perf_counter()
    with h5py.File(args.scores, "r") as scores, h5py.File(args.data, "r") as data:
        first = scores["embeddings"]
        n, width = first.shape
        if len(data["images"]) != n:
            raise SystemExit(f"{args.scores} has {n} rows but {args.data} {len(data['images'])} cutouts")
        with h5py.File(args.output.with_suffix(".partial"), "w") as out:
            vectors = out.create_dataset("embeddings", ((1 + len(views)) * n, width), np.float32)
            for start in range(0, n, 65536):
                stop = min(n, start + 65536)
                vectors[start:stop] = first[start:stop]
            for v, view in enumerate(views, start=1):
                for start in range(0, n, args.batch_size):
                    images = data["images"][start : start + args.batch_size]
                    turned = dihedral(images, np.full(len(images), view))
                    rows = embed(turned)
                    vectors[v * n + start : v * n + start + len(rows)] = rows
                print(f"view {view}: {n:,} cutouts, {time.perf_counter() - started:.0f} s so far", flush=True)
    args.output.with_suffix(".partial").replace(args.output)
    print(f"{(1 + len(views)) * n:,} embeddings written to {args.output}")


if __name__ == "__main__":
    main()
