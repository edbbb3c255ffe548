"""Retraining in a child process, so that the window's event loop never waits for training.

Measured (BENCHMARKS.md, issue 12): Keras training in a thread of the window's process held the GIL
often enough to make the event loop 55 ms late at the 99th percentile. :func:`finetune_in_process`
runs the same job, :func:`galview.ml.finetune.finetune`, in a fresh ``spawn`` process at a lower
priority; the calling thread only relays progress, passes Cancel on, and rebuilds the result.

The collection travels as the path and options it was opened with (``collection.opened_with``,
set by :func:`galview.io.open_collection`); the child reopens it and checks its fingerprint. The
parent model travels as its file. Messages are JSON over a pipe (nothing is unpickled). A
collection or model without a file (built in memory) is retrained in the calling thread instead.

If the child dies (killed, out of memory) nothing is taken from it: the new version is written
atomically by the child (:func:`galview.ml.versions.write_version`) or not at all, and the
active model is never touched.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import multiprocessing
import os
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from galview.core.errors import CollectionError
from galview.core.jobs import Cancelled, CancelToken, Progress
from galview.core.spawning import WORKER_NICENESS
from galview.ml.errors import ModelError, TrainingFailed

logger = logging.getLogger(__name__)

#: The child's scheduling priority relative to the window (``os.nice``): the window comes first.
CHILD_NICENESS = WORKER_NICENESS
#: After Cancel, how long the child may take to stop at its batch boundary before it is given up on.
STOP_GRACE_S = 30.0
#: How long a child that has sent its last message may take to exit before it is killed.
EXIT_WAIT_S = 15.0
POLL_S = 0.05
_ERRORS = {cls.__name__: cls for cls in (ModelError, TrainingFailed, CollectionError)}


def finetune_in_process(parent, collection, indices, labels, recipe, *, output=None, on_progress=None,
                        cancel: CancelToken | None = None, left_out: dict | None = None,
                        score_limit: int = 0, embedding_budget: int = 0):  # fmt: skip
    """:func:`galview.ml.finetune.finetune` in a child process; same arguments, result and errors.

    With ``score_limit`` ≥ the collection's size the child then scores the whole collection with
    the new version and puts the scores (with embeddings while N × D × 4 ≤ ``embedding_budget``
    bytes) in GalView's score cache; the result's ``scored_version`` says so. A cancel or failure
    while scoring keeps the written version (``scored_version`` None).

    Falls back to the calling thread when ``collection`` or ``parent`` cannot be reopened from a
    file, when the program's main module would run again in the child
    (:func:`~galview.core.spawning.spawn_is_safe`), or when ``GALVIEW_RETRAIN_IN_PROCESS=0``.
    """
    from galview.core.collection import fingerprint
    from galview.core.spawning import spawn_is_safe
    from galview.ml.finetune import _parent_name, finetune
    from galview.ml.versions import new_version_dir

    opened_with = getattr(collection, "opened_with", None)
    parent_path = _model_path(parent)
    in_thread = os.environ.get("GALVIEW_RETRAIN_IN_PROCESS") == "0" or not spawn_is_safe()
    if opened_with is None or parent_path is None or in_thread:
        return finetune(parent, collection, indices, labels, recipe, output=output, on_progress=on_progress,
                        cancel=cancel, left_out=left_out)  # fmt: skip
    folder = Path(output) if output is not None else new_version_dir(_parent_name(parent_path))
    request = {
        "parent": str(parent_path),
        "adapter": _adapter_of(parent),  # one accepted in the window is not in the file
        "collection": opened_with,
        "fingerprint": fingerprint(collection),
        "indices": np.asarray(indices, dtype=np.int64).tolist(),
        "labels": np.asarray(labels, dtype=np.int64).tolist(),
        "recipe": dataclasses.asdict(recipe),
        "output": str(folder),
        "left_out": _jsonable(left_out),
        "niceness": CHILD_NICENESS,
        "score": len(collection) <= score_limit,
        "embedding_budget": int(embedding_budget),
    }
    return _run_child(request, on_progress, cancel or CancelToken())


def _adapter_of(parent) -> dict | None:
    """The adapter a loaded parent carries (None for a path, or a model without one)."""
    card = getattr(parent, "card", None)
    return None if card is None else card.input.adapter


def _model_path(parent) -> Path | None:
    if isinstance(parent, str | os.PathLike):
        return Path(parent)
    path = getattr(parent, "path", None)
    return Path(path) if path is not None and Path(path).exists() else None


def _run_child(request: dict, on_progress, cancel: CancelToken):
    """Start the child, relay its messages until it is done; the FinetuneResult, or what it raised."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    stop = context.Event()
    child = context.Process(target=child_main, args=(json.dumps(request), sender, stop), daemon=True,
                            name="galview-retrain")  # fmt: skip
    child.start()
    sender.close()  # the child holds the only writing end: EOF when it exits
    logger.info("retraining in process %s", child.pid)
    try:
        return _relay(child, receiver, stop, on_progress, cancel)
    finally:
        _finish(child, stop)
        receiver.close()


def _relay(child, receiver, stop, on_progress, cancel: CancelToken):
    trained = None  # the FinetuneResult, once the child has written the version
    asked_to_stop = None  # when Cancel was passed on
    while True:
        if cancel.cancelled and asked_to_stop is None:
            stop.set()
            asked_to_stop = time.monotonic()
        if not receiver.poll(POLL_S):
            if asked_to_stop is not None and time.monotonic() - asked_to_stop > STOP_GRACE_S:
                raise Cancelled()  # it did not stop at a batch boundary: _finish kills it
            continue
        try:
            message = json.loads(receiver.recv_bytes())
        except EOFError:
            child.join(5)
            if trained is not None:  # died while scoring: the version stands, unscored
                logger.warning("the retraining process ended while scoring (%s)", _exit_text(child.exitcode))
                return trained
            raise TrainingFailed(
                "retraining", f"the training process ended unexpectedly ({_exit_text(child.exitcode)}); "
                "nothing was written and the active model is unchanged"
            ) from None  # fmt: skip
        kind = message.pop("kind")
        if kind == "progress" and on_progress is not None:
            on_progress(_progress(message))
        elif kind == "trained":
            trained = _result(message)
        elif kind == "scored":
            return (
                trained if message["version"] is None else replace(trained, scored_version=message["version"])
            )
        elif kind == "cancelled":
            raise Cancelled()
        elif kind == "error":
            raise _error(message)


def _finish(child, stop) -> None:
    """Let the child exit (it has sent its last message, or the caller gave up on it); kill it if it
    has not within :data:`EXIT_WAIT_S`."""
    stop.set()  # harmless once it is done; otherwise it stops at its next batch
    child.join(EXIT_WAIT_S)
    if child.is_alive():
        logger.warning("the training process %s did not stop; killing it", child.pid)
        child.kill()
        child.join(5)


def _exit_text(code: int | None) -> str:
    if code is None:
        return "still running"
    return f"killed by signal {-code}" if code < 0 else f"exit status {code}"


def _progress(message: dict) -> Progress:
    from galview.ml.finetune import FitEvent

    payload = message.pop("payload", None)
    return Progress(**message, payload=FitEvent(**payload) if payload else None)


def _error(message: dict) -> Exception:
    logger.error("retraining process failed:\n%s", message.get("traceback", ""))
    cls = _ERRORS.get(message["type"])
    if cls is not None:
        return cls(message["path"], message["problem"])
    return TrainingFailed("retraining", f"{message['type']}: {message['problem']}; nothing was written")


def _result(message: dict):
    from galview.ml.cards import card_path, load_card
    from galview.ml.finetune import FinetuneRecipe, FinetuneResult

    path = Path(message["path"])
    counts = message["counts"]
    counts["per_class"] = {int(k): n for k, n in counts["per_class"].items()}
    return FinetuneResult(
        path=path,
        card=load_card(card_path(path)),
        recipe=FinetuneRecipe(**message["recipe"]),
        counts=counts,
        before=message["before"],
        after=message["after"],
        difference=message["difference"],
        verdict=message["verdict"],
        device=message["device"],
        seconds=message["seconds"],
    )


def _jsonable(value):
    """JSON-ready ``value``; NaN stays NaN (the before/after may hold it, and the window reads it as NaN)."""
    from galview.ml.cards import _jsonable as jsonable

    return jsonable(value, keep_nan=True)


# -- in the child ------------------------------------------------------------------------------------
class _EventToken(CancelToken):
    """A cancel token backed by the parent's ``multiprocessing.Event``."""

    def __init__(self, event) -> None:
        self._event = event


def child_main(request_text: str, sender, stop) -> None:
    """The child's entry point: reopen, fine-tune, send JSON messages, exit."""
    request = json.loads(request_text)
    with contextlib.suppress(OSError):
        os.nice(int(request.get("niceness", 0)))

    def send(kind: str, **fields) -> None:
        sender.send_bytes(json.dumps({"kind": kind, **_jsonable(fields)}).encode())

    def report(progress: Progress) -> None:
        send("progress", **_progress_fields(progress))

    try:
        collection = _reopen(request)
        result = _child_finetune(request, collection, report, _EventToken(stop))
        send("trained", **_result_fields(result))
        scored = _score_new_version(request, collection, result, report, _EventToken(stop))
        send("scored", version=scored)
    except Cancelled:
        send("cancelled")
    except Exception as exc:  # every failure reaches the window as a message, never a dead pipe
        import traceback

        problem = getattr(exc, "problem", str(exc))
        send("error", type=type(exc).__name__, path=getattr(exc, "path", "retraining"), problem=problem,
             traceback=traceback.format_exc())  # fmt: skip
    finally:
        sender.close()


def _reopen(request: dict):
    from galview.core.collection import fingerprint
    from galview.io import open_collection

    opened = request["collection"]
    collection = open_collection(opened["path"], **opened["options"])
    if fingerprint(collection) != request["fingerprint"]:
        raise CollectionError(opened["path"], "changed on disk since it was opened; reopen it and retrain")
    return collection


def _child_finetune(request: dict, collection, on_progress, cancel: CancelToken):
    from galview.ml.finetune import FinetuneRecipe, finetune

    started = time.monotonic()
    parent = request["parent"]
    if request.get("adapter"):
        from galview.ml.adapt import carrying
        from galview.ml.loading import load_model

        parent = carrying(load_model(parent), request["adapter"])
    result = finetune(
        parent, collection, np.asarray(request["indices"], dtype=np.int64),
        np.asarray(request["labels"], dtype=np.int64), FinetuneRecipe(**request["recipe"]),
        output=request["output"], on_progress=on_progress, cancel=cancel, left_out=request["left_out"],
    )  # fmt: skip
    logger.info("retrained in the child in %.1f s", time.monotonic() - started)
    return result


def _progress_fields(progress: Progress) -> dict:
    payload = progress.payload
    fields = {name: getattr(progress, name) for name in ("done", "total", "message", "values", "unit")}
    return fields | {"payload": dataclasses.asdict(payload) if dataclasses.is_dataclass(payload) else None}


def _result_fields(result) -> dict:
    names = ("counts", "before", "after", "difference", "verdict", "device", "seconds")
    return {"path": str(result.path), "recipe": dataclasses.asdict(result.recipe)} | {
        name: getattr(result, name) for name in names
    }


def _score_new_version(request: dict, collection, result, on_progress, cancel: CancelToken) -> str | None:
    """Score the whole collection with the new version into the score cache; its version, or None
    when not asked, cancelled or failed (the version is written either way)."""
    if not request["score"]:
        return None
    from galview.io.score_cache import ScoreCache
    from galview.ml.jobs import score_rows
    from galview.ml.loading import load_model

    try:
        loaded = load_model(result.path)
        scores = _empty_scores(loaded, len(collection), request["embedding_budget"])

        def keep(progress: Progress) -> None:
            rows = progress.payload
            scores.set_rows(rows.indices, rows.probs, rows.embeddings)
            on_progress(replace(progress, message="scoring with the new version", payload=None))

        score_rows(loaded, collection, np.arange(len(collection)), on_progress=keep, cancel=cancel)
        cache = ScoreCache.default()
        cache.save(request["fingerprint"], scores)
        cache.close()
        return loaded.version
    except Cancelled:
        return None
    except Exception:  # noqa: BLE001 - the window scores it itself; the new version is fine
        logger.exception("scoring with the new version failed in the retraining process")
        return None


def _empty_scores(loaded, n: int, embedding_budget: int):
    from galview.core.scores import Scores
    from galview.ml.scoring import penultimate_layer

    dim = int(np.prod(penultimate_layer(loaded.model).output.shape[1:]))
    return Scores.for_model(loaded, n, embedding_dim=dim if n * dim * 4 <= embedding_budget else 0)
