"""Every command the README shows is run, on small real data in a temporary folder.

The ``galview …`` lines of the README's code blocks, and inline examples with placeholders
(``galview train DATA --parent …``), are expanded: ``[…]`` optional parts are included, ``a|b``
takes its first choice, placeholders (DATA, PATH, MODEL, OUT.csv, …) become files in ``tmp_path``.
Commands that open the window are parsed, not run (tests/cli runs the window); the rest run
through :func:`galview.cli.main` and must exit 0. For speed, training runs one epoch and the
simulation one process (:data:`FAST`).
"""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import numpy as np
import pytest

from galview.assets import models_dir
from galview.cli import build_parser, main
from galview.io import open_collection
from galview.io.label_store import open_label_store
from galview.ml.versions import versions_dir

README = Path(__file__).resolve().parents[1] / "README.md"
WINDOW_COMMANDS = ("view", "demo")
FAST = {
    "train": ["--epochs", "1"],
    "simulate": ["--workers", "1"],
    "finetune": ["--epochs", "1", "--folds", "2"],
    "train-encoder": ["--epochs", "1"],
}
PLACEHOLDERS = {
    "PATH": "des.npz",
    "DATA": "des.npz",
    "N": "6",
    "S": "0",
    "I": "3",
    "INDEX": "5",
    "REF": "#5",
    "LABEL": "LSBG",
    "FILE.csv": "mine.csv",
    "CATALOGUE.csv": "known.csv",
    "OTHER": "other.npz",
    "FLUX": "dwarf.fits",  # one real Legacy Survey cutout in nanomaggies (its header states no unit)
    "MODEL_DIR": "model_dir",
    "NEW_MODEL_DIR": "new_model_dir",
    "K": "2",
    "VERSION": "readme-version",
    "MODEL": "model_dir",
    "COMMAND": "score",
    # Survey scale (galview score --cluster): the real cutouts as the one shard, scored on a local cluster.
    "SHARDS": "des.npz",
    "OUT_DIR": "run_out",
    "SHARD:INDEX": "des.npz:5",
    "STORE": "damaged.labels.sqlite",  # a store of des.npz whose header is damaged, for `labels salvage`
    "THEIRS": "theirs.labels.sqlite",  # another inspector's store of des.npz, for `labels agree`
}


def readme_commands(text: str) -> list[str]:
    """``galview …`` lines of the fenced code blocks, then inline examples with placeholders."""
    commands = []
    for block in re.findall(r"```(?:bash|sh|console)?\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            line = re.split(r"\s{2,}#", line)[0].strip()
            if line.startswith("galview "):
                commands.append(line)
    for span in re.findall(r"(?<!`)`(galview [^`]+)`", text):
        if re.search(r"\b[A-Z][A-Z_]+\b", span) and span not in commands:
            commands.append(span)
    return commands


def expand(command: str) -> list[str]:
    """Arguments of one README command: options included, first choices, placeholders filled."""
    command = command.replace("COMMAND ...", "info DATA").replace("...", "").replace("…", "")
    command = re.sub(r"\[([^\]]*)\]", r"\1", command)
    args = []
    for token in shlex.split(command)[1:]:
        choice = token.split("|")[0]
        args.append(PLACEHOLDERS.get(choice, choice))
    return args


def test_readme_commands_are_found():
    commands = readme_commands(README.read_text())
    assert len(commands) >= 15
    assert any(c.startswith("galview train DATA --parent") for c in commands)
    assert expand("galview score DATA [--model MODEL] -o OUT.csv|OUT.h5") == [
        "score", "des.npz", "--model", "model_dir", "-o", "OUT.csv"
    ]  # fmt: skip


@pytest.fixture
def workspace(shared_data, tmp_path, monkeypatch):
    """A folder holding the real DES cutouts, a labels CSV and the shipped models; the shipped
    model is the default one."""
    with np.load(shared_data / "des_lsbg" / "des_lsbg_dev.npz", allow_pickle=False) as real:
        arrays = {key: real[key] for key in real.files}  # the real cutouts, with their classes named
    np.savez(tmp_path / "des.npz", **arrays, class_names=np.array(["artifact", "LSBG"]))
    (tmp_path / "mine.csv").write_text("index,label\n1,LSBG\n2,artifact\n")
    known = np.flatnonzero(np.isfinite(arrays["ra"]))[
        :3
    ]  # a catalogue of three of the cutouts with positions
    rows = "".join(f"src{i},{arrays['ra'][i]},{arrays['dec'][i]},LSBG\n" for i in known)
    (tmp_path / "known.csv").write_text("name,ra,dec,label\n" + rows)
    np.savez(  # another survey's file of three of them (for `galview pair`, `view --beside`)
        tmp_path / "other.npz",
        images=arrays["images"][known, ::2, ::2],
        ra=arrays["ra"][known],
        dec=arrays["dec"][known],
    )
    shutil.copyfile(shared_data / "legacy_dwarfs" / "ngc3115_dwarf_15.fits", tmp_path / "dwarf.fits")
    (tmp_path / "models").symlink_to(models_dir(), target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GALVIEW_MODEL")
    version = versions_dir() / PLACEHOLDERS["VERSION"]  # a retrained version for `galview models` to find
    version.mkdir()
    for suffix in (".keras", ".json"):
        shutil.copyfile(models_dir() / f"deepshadows_des_sim{suffix}", version / f"model{suffix}")
    with open_collection(tmp_path / "des.npz") as collection:
        open_label_store(collection, tmp_path / PLACEHOLDERS["STORE"]).close()
    with open(tmp_path / PLACEHOLDERS["STORE"], "r+b") as handle:
        handle.write(bytes(16))
    with open_collection(tmp_path / "des.npz") as collection:
        with open_label_store(collection, tmp_path / PLACEHOLDERS["THEIRS"]) as theirs:
            theirs.set([1, 5, 7], 1, user="bob")
    return tmp_path


def run(args: list[str]) -> int:
    try:
        return main(args)
    except SystemExit as exc:  # argparse: a command the parser refuses
        return exc.code


def test_every_readme_command_runs(workspace, capsys):
    failures = []
    for command in readme_commands(README.read_text()):
        args = expand(command)
        name = next(a for a in args if not a.startswith("-"))
        if name in WINDOW_COMMANDS:
            parsed = build_parser().parse_args(args)
            assert all(Path(p).exists() for p in getattr(parsed, "paths", [])), command
            continue
        code = run(args + FAST.get(name, []))
        err = capsys.readouterr().err
        if code != 0:
            failures.append(
                f"{command}\n    exit {code}: {err.strip().splitlines()[-1] if err.strip() else ''}"
            )
    assert not failures, "README commands that fail:\n" + "\n".join(failures)
