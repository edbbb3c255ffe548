"""Command-line progress: the job's units, epochs with their loss, one summary line per phase."""

from __future__ import annotations

import io

from galview.core.jobs import Progress
from galview.core.progress import ProgressPrinter


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def printer(stream, clock):
    return ProgressPrinter("train", stream=stream, clock=clock)


def test_scoring_counts_cutouts_and_summarises_once():
    stream, clock = io.StringIO(), Clock()
    show = ProgressPrinter("score", stream=stream, clock=clock)
    for done in (1024, 2048, 3000):
        clock.now += 2.0
        show(Progress(done, 3000, "scoring", unit="cutouts"))
    show(Progress(3000, 3000, "scoring", unit="cutouts"))  # a repeated end draws nothing
    show.close()
    assert stream.getvalue() == "score  scoring  3,000/3,000 cutouts in 6.0 s\n"


def test_training_shows_epoch_and_loss_without_duplicated_summaries():
    stream, clock = Terminal(), Clock()
    show = printer(stream, clock)
    for epoch in range(2):
        for batch in range(2):
            clock.now += 1.0
            done = epoch * 2 + batch + 1
            show(Progress(done, 4, f"epoch {epoch + 1}/2", {"loss": 0.7 - 0.1 * done}, unit="batches"))
        show(Progress((epoch + 1) * 2, 4, f"epoch {epoch + 1}/2 done", {"loss": 0.5}, unit="batches"))
    text = stream.getvalue()
    lines = text.split("\r")
    assert "train  epoch 1/2  [#######" in lines[1] and "1/4 batches" in lines[1]
    assert "1 batches/s" in lines[1] and "3.0 s left" in lines[1] and "loss 0.600" in lines[1]
    assert text.count("\n") == 1 and text.endswith("\n")
    assert (
        lines[-1].rstrip() == "train  epoch 2/2 done  4/4 batches in 4.0 s  loss 0.500"
    )  # padded over the bar
    assert "nan" not in text


def test_a_new_unit_starts_a_new_line_and_an_early_stop_is_closed():
    stream, clock = io.StringIO(), Clock()
    with ProgressPrinter("suspects", stream=stream, clock=clock) as show:
        clock.now = 3.0
        show(Progress(112, 112, "embedding the labelled cutouts", unit="cutouts"))
        clock.now = 4.0
        show(Progress(1, 4, "logistic regression on the embeddings", unit="folds"))
    assert stream.getvalue().splitlines() == [
        "suspects  embedding the labelled cutouts  112/112 cutouts in 3.0 s",
        "suspects  logistic regression on the embeddings  1/4 folds in 1.0 s",
    ]


def test_a_pipe_gets_a_line_every_ten_seconds_not_every_report():
    stream, clock = io.StringIO(), Clock()
    show = ProgressPrinter("simulate des", stream=stream, clock=clock)
    for done in range(1, 100):
        clock.now += 0.5
        show(Progress(done, 100, unit="cutouts"))
    lines = stream.getvalue().splitlines()
    assert len(lines) == 4 and "\r" not in stream.getvalue()  # at 10, 20, 30 and 40 s
    assert (
        lines[0] == "simulate des  [######........................]  20/100 cutouts  2 cutouts/s  40 s left"
    )
