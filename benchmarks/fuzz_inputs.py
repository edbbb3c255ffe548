"""Mutation fuzzing of every file GalView reads: does each damaged copy give a clean answer?

    PYTHONPATH=. python benchmarks/fuzz_inputs.py [--runs 100] [--seed 0] [--targets collections,store,...]
        [--keep FOLDER]
    PYTHONPATH=. python benchmarks/fuzz_inputs.py --commands view,score [--runs 20] [--jobs 2]

Small valid inputs are made in a temporary folder by GalView itself (a simulated HDF5 file, npz, npy,
a FITS cube with a WCS, a stack in an image extension, a folder of FITS files, PNG and JPEG folders with
a label table, a label store, its CSV export, a similarity reference of each kind; the shipped model).
Each run copies one, damages it at random (bytes overwritten, mostly in the first 4 KiB where the headers
are; a block zeroed or repeated; the file truncated) and has a fresh Python process read it the way
GalView does. A run is *clean* when it reads without error or raises a one-line
:class:`~galview.core.errors.UserFacingError`; anything else (another exception, a crash, a hang over
60 s) is a finding, printed with where it was raised and kept under ``--keep``. Complements the
hand-made corpus of ``tests/hostile`` (``bench_hostile.py``). Target ``salvage`` salvages each damaged
store GalView refuses as damaged (``galview labels salvage``), then reads and labels in the new store.

With ``--commands``, the damaged collections go instead through whole ``galview`` commands (``view``
offscreen with a screenshot, ``score``, ``info``, ``labels``; also ``explain`` (the sheet), ``similar``,
``adapt``, ``finetune``, ``train-encoder``, ``mosaic``, ``find``, ``labels note``, ``pair`` and ``measure``, :data:`tests.hostile.corpus.MORE_COMMANDS`) under the corpus's limits and its
classification (:func:`tests.hostile.corpus.classify`): the window's worker threads and the scoring of
every cutout are then part of the run, and a traceback logged from a thread is a finding too.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TIME_LIMIT_S = 60

#: What each target does with its (damaged) input ``sys.argv[1]``; ``sys.argv[2]`` is the seed folder.
READERS = {
    "collections": """
from galview.io.registry import open_collection
c = open_collection(sys.argv[1])
n = len(c)
for i in sorted({0, 1, 2, n - 1} & set(range(n))):
    c.get(i)
if n:
    c.get_batch(list(range(min(n, 8))))
c.labels, c.ids, c.coords, c.describe(), c.flux_unit(), c.wcs(0) if n else None
""",
    "store": """
from galview.io.registry import open_collection
from galview.io.label_store import open_label_store
s = open_label_store(open_collection(sys.argv[2] + "/sim.h5"), sys.argv[1])
s.current(), s.effective(), s.ids(), s.history(), s.counts(), s.integrity()
s.set([3], 1); s.undo(); s.redo(); s.close()
""",
    "salvage": """
from galview.io.registry import open_collection
from galview.io.label_store import open_label_store
from galview.io.label_schema import DamagedLabelStore
from galview.io.label_salvage import salvage_store
c = open_collection(sys.argv[2] + "/sim.h5")
try:
    open_label_store(c, sys.argv[1]).close()
except DamagedLabelStore:
    salvage_store(c, sys.argv[1])
    s = open_label_store(c, sys.argv[1]); s.current(), s.history(), s.set([3], 1); s.close()
""",
    "labels-csv": """
from galview.io.registry import open_collection
from galview.io.label_store import open_label_store
s = open_label_store(open_collection(sys.argv[2] + "/sim.h5"), sys.argv[1] + ".sqlite")
s.import_csv(sys.argv[1]); s.current(), s.history()
""",
    "other-labels": """
import numpy as np
from galview.core.agreement import Agreement
from galview.io.registry import open_collection
from galview.io.other_labels import read_other_labels
c = open_collection(sys.argv[2] + "/sim.h5")
other = read_other_labels(sys.argv[1], c)
a = Agreement(np.full(len(c), 1.0), other.values)
a.summary(other.name), a.table_lines(other.name), a.kappa_interval(), a.ranking(other.name)
""",
    "reference": """
from galview.io.registry import open_collection
from galview.io.reference_files import reference_for
reference_for(sys.argv[1], open_collection(sys.argv[2] + "/sim.h5"))
""",
    "model": """
import numpy as np
from galview.ml.loading import load_model
loaded = load_model(sys.argv[1])
loaded.model.predict(np.zeros((2, *loaded.model.input_shape[1:]), np.float32), verbose=0)
""",
}

CHILD = """
import os, sys, traceback, warnings
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
warnings.simplefilter("ignore")
from galview.core.errors import UserFacingError
try:
{body}
    print("clean: read")
except UserFacingError as exc:
    print("clean: refused" if "\\n" not in str(exc) else "finding: a refusal of several lines")
except MemoryError:
    print("finding: MemoryError")
except Exception as exc:
    frames = traceback.extract_tb(exc.__traceback__)
    print(f"finding: {{type(exc).__name__}}: {{str(exc)[:160]}}".replace("\\n", " "))
    print(" < ".join(f"{{Path(f.filename).name}}:{{f.lineno}}" for f in frames[-4:]))
"""


def make_seeds(folder: Path) -> dict[str, list[Path]]:
    """Valid inputs for each target, made by GalView (nothing copied from elsewhere)."""
    import numpy as np
    from astropy.io import fits
    from PIL import Image

    from galview.assets import shipped_default_path
    from galview.io.label_store import open_label_store
    from galview.io.registry import open_collection
    from galview.sim.generate import write_simulation
    from galview.sim.surveys import DES

    rng = np.random.default_rng(0)
    sim = write_simulation(folder / "sim.h5", DES, 12, seed=3, workers=1)
    images = rng.integers(0, 256, (6, 32, 32, 3), dtype=np.uint8)
    np.savez(folder / "cut.npz", images=images, labels=np.array([0, 1, 0, 1, -1, 1]), ra=np.arange(6.0))
    np.save(folder / "cut.npy", rng.random((5, 16, 16, 3)).astype(np.float32))
    header = fits.Header(
        [("CTYPE1", "RA---TAN"), ("CTYPE2", "DEC--TAN"), ("CRVAL1", 151.7), ("CRVAL2", -8.3)]
        + [("CRPIX1", 24.5), ("CRPIX2", 24.5), ("CD1_1", -5.6e-5), ("CD2_2", 5.6e-5)]
        + [("BANDS", "grz"), ("BUNIT", "nanomaggy")]
    )
    fits.writeto(folder / "cube.fits", rng.normal(0, 0.01, (3, 48, 48)).astype(np.float32), header)
    extension = fits.ImageHDU(rng.normal(0, 0.01, (4, 3, 24, 24)).astype(np.float32), header, name="CUTOUTS")
    fits.HDUList([fits.PrimaryHDU(), extension]).writeto(folder / "stack.fits")
    (folder / "fitsdir").mkdir()
    for i in range(3):
        one = header.copy()
        one["CRVAL1"] += i * 0.01
        fits.writeto(
            folder / "fitsdir" / f"obj{i}.fits", rng.normal(0, 0.01, (3, 24, 24)).astype(np.float32), one
        )
    for kind, suffix in (("pngs", "png"), ("jpgs", "jpg")):
        (folder / kind).mkdir()
        for i in range(3):
            Image.fromarray(images[i]).save(folder / kind / f"g{i}.{suffix}")
        (folder / kind / "labels.csv").write_text(
            "filename,label\n" + "".join(f"g{i}.{suffix},{i % 2}\n" for i in range(3))
        )
    _model_sized(folder, rng)
    store = open_label_store(open_collection(sim), folder / "store.sqlite")
    store.set([0, 1], 1)
    store.set([2], 0)
    store.undo()
    store.set([4, 5], 0)
    store.export(folder / "labels.csv")
    store.close()
    Image.fromarray(images[0]).save(folder / "ref.png")
    Image.fromarray(images[1]).save(folder / "ref.jpg")
    np.save(folder / "ref.npy", rng.random((24, 24)).astype(np.float32))
    collections = ["sim.h5", "cut.npz", "cut.npy", "cube.fits", "stack.fits", "fitsdir", "pngs", "jpgs"]
    collections += ["model.npz", "modelpngs"]
    return {
        "collections": [folder / name for name in collections],
        "store": [folder / "store.sqlite"],
        "salvage": [folder / "store.sqlite"],
        "labels-csv": [folder / "labels.csv"],
        "other-labels": [folder / "store.sqlite", folder / "labels.csv"],
        "reference": [folder / name for name in ("cube.fits", "ref.png", "ref.jpg", "ref.npy")],
        "model": [shipped_default_path()],
    }


def _model_sized(folder: Path, rng) -> None:
    """Collections the shipped model takes as they are (64 × 64 colour, labelled, 70 cutouts: more than
    adapt's 64), so that a damaged copy reaches scoring, explaining, adapting and fine-tuning rather than
    being refused for its shape: ``model.npz`` and the folder of PNGs ``modelpngs``."""
    import numpy as np
    from PIL import Image

    n = 70
    yy, xx = np.mgrid[0:64, 0:64]
    images = rng.normal(40, 8, (n, 64, 64, 3))
    labels = np.arange(n) % 2
    for i, label in enumerate(labels):  # a faint diffuse blob at the centre, or a compact one off it
        cx, cy, width = (31.5, 31.5, 60.0) if label else (*rng.uniform(8, 56, 2), 4.0)
        images[i] += 90 * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / width)[..., None]
    images = np.clip(images, 0, 255).astype(np.uint8)
    np.savez(folder / "model.npz", images=images, labels=labels, class_names=np.array(["artifact", "LSBG"]))
    (folder / "modelpngs").mkdir()
    for i, image in enumerate(images):
        Image.fromarray(image).save(folder / "modelpngs" / f"m{i:02d}.png")
    (folder / "modelpngs" / "labels.csv").write_text(
        "filename,label\n" + "".join(f"m{i:02d}.png,{label}\n" for i, label in enumerate(labels))
    )


def damaged(data: bytes, rng: random.Random) -> bytes:
    """``data`` with one random kind of damage."""
    out = bytearray(data)
    kind = rng.choice(["bytes", "bytes", "truncated", "zeroed", "repeated"])
    if kind == "truncated":
        return bytes(out[: rng.randrange(1, len(out))])
    start = rng.randrange(len(out))
    end = min(len(out), start + rng.randrange(1, 64))
    if kind == "zeroed":
        out[start:end] = bytes(end - start)
        return bytes(out)
    if kind == "repeated":
        return bytes(out[:end] + out[start:end] + out[end:])
    for _ in range(rng.randrange(1, 8)):
        at = rng.randrange(min(len(out), 4096)) if rng.random() < 0.7 else rng.randrange(len(out))
        out[at] = rng.randrange(256)
    return bytes(out)


def damaged_copy(seed: Path, work: Path, rng: random.Random) -> Path:
    """A copy of ``seed`` (a file, a folder of files, or a model with its card) with one file damaged."""
    target = work / seed.name
    if seed.is_dir():
        shutil.copytree(seed, target)
        victim = rng.choice(sorted(p for p in target.iterdir() if p.is_file()))
    else:
        shutil.copy(seed, target)
        victim = target
        card = seed.with_suffix(".json")
        if seed.suffix == ".keras" and card.is_file():
            shutil.copy(card, work / card.name)
            victim = work / card.name if rng.random() < 0.3 else target
    victim.write_bytes(damaged(victim.read_bytes(), rng))
    return target


def run_one(target: str, path: Path, seeds: Path) -> tuple[str, str]:
    body = "\n".join("    " + line for line in READERS[target].strip().splitlines())
    code = "from pathlib import Path\n" + CHILD.format(body=body)
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, str(path), str(seeds)],
            capture_output=True,
            text=True,
            timeout=TIME_LIMIT_S,
            cwd=REPO,
        )
    except subprocess.TimeoutExpired:
        return "finding: hang", ""
    lines = done.stdout.strip().splitlines()
    if not lines:
        return f"finding: crash (exit {done.returncode})", done.stderr.strip()[-200:]
    if done.returncode < 0:  # killed by a signal after it answered, e.g. a segfault at exit
        return f"finding: crash (signal {-done.returncode}) after '{lines[0]}'", done.stderr.strip()[-200:]
    return lines[0], lines[1] if len(lines) > 1 else ""


def command_runs(inputs: dict[str, list[Path]], runs: int, seed: int, commands: list[str], jobs: int) -> int:
    """Damaged collections through whole commands (the hostile corpus's runner); prints a table."""
    from tests.hostile.case import Case
    from tests.hostile.corpus import run_cases

    def maker(source: Path, number: int):
        return lambda folder: damaged_copy(source, folder, random.Random(f"{seed}-{source.name}-{number}"))

    cases = [
        Case(f"fuzz/{source.name}-{number}", "valid", maker(source, number), commands=tuple(commands))
        for source in inputs["collections"]
        for number in range(runs)
    ]
    tally: Counter = Counter()
    findings = []
    for run in run_cases(cases, jobs=jobs):
        name = run.case.split("/", 1)[1].rsplit("-", 1)[0]
        clean = run.kind in ("accepted", "clean-error")
        tally[(name, run.command, run.kind if clean else "finding")] += 1
        if not clean:
            findings.append(f"{run.case} [{run.command}] {run.kind}: {run.stderr.strip()[-300:]}")
    print("| input | command | runs | accepted | refused in one line | findings |\n|---|---|---|---|---|---|")
    for name, command in dict.fromkeys((n, c) for n, c, _ in tally):
        counts = [tally[(name, command, kind)] for kind in ("accepted", "clean-error", "finding")]
        print(f"| {name} | {command} | {sum(counts)} | " + " | ".join(map(str, counts)) + " |")
    print("\n".join(findings))
    return 1 if findings else 0


def _only(inputs: dict[str, list[Path]], names: str | None) -> dict[str, list[Path]]:
    """``inputs`` kept to the files or folders called ``names`` (comma-separated); all without."""
    if not names:
        return inputs
    wanted = set(names.split(","))
    return {target: [path for path in paths if path.name in wanted] for target, paths in inputs.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100, help="damaged copies per valid input")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--targets", default=",".join(READERS))
    parser.add_argument("--keep", type=Path, default=Path("fuzz_findings"), help="where findings are copied")
    parser.add_argument(
        "--commands",
        help="run the damaged collections through these galview commands instead, comma-separated: "
        "info, view, score, labels (tests.hostile.corpus.COMMANDS) and MORE_COMMANDS (explain, similar, adapt, "
        "finetune, train-encoder, mosaic, find, note, pair, measure)",
    )
    parser.add_argument("--jobs", type=int, default=2, help="commands run at a time (with --commands)")
    parser.add_argument(
        "--inputs", help="only these valid inputs, comma-separated names (e.g. model.npz,modelpngs)"
    )
    args = parser.parse_args(argv)
    if args.commands:
        with tempfile.TemporaryDirectory() as temp:
            inputs = _only(make_seeds(Path(temp)), args.inputs)
            return command_runs(inputs, args.runs, args.seed, args.commands.split(","), args.jobs)
    rng = random.Random(args.seed)
    started = time.perf_counter()
    tally: Counter = Counter()
    findings: list[dict] = []
    with tempfile.TemporaryDirectory() as temp:
        seeds = Path(temp) / "seeds"
        seeds.mkdir()
        inputs = _only(make_seeds(seeds), args.inputs)
        for target in args.targets.split(","):
            for seed in inputs[target]:
                for run in range(args.runs):
                    work = Path(tempfile.mkdtemp(dir=temp))
                    outcome, where = run_one(target, damaged_copy(seed, work, rng), seeds)
                    kind = outcome.removeprefix("clean: ") if outcome.startswith("clean") else "finding"
                    tally[(target, seed.name, kind)] += 1
                    if not outcome.startswith("clean"):
                        kept = args.keep / f"{target}-{seed.name}-{run}"
                        shutil.copytree(work, kept, dirs_exist_ok=True)
                        findings.append(
                            {"target": target, "input": seed.name, "outcome": outcome, "at": where}
                        )
                    shutil.rmtree(work)
    print("| target | input | runs | read | refused in one line | findings |\n|---|---|---|---|---|---|")
    for target, name in dict.fromkeys((t, n) for t, n, _ in tally):
        read, refused, found = (tally[(target, name, kind)] for kind in ("read", "refused", "finding"))
        print(f"| {target} | {name} | {read + refused + found} | {read} | {refused} | {found} |")
    for finding in findings:
        print(json.dumps(finding))
    kept = f"; findings kept in {args.keep}" if findings else ""
    print(f"took {time.perf_counter() - started:.0f} s{kept}")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
