"""Live training curves: batches placed at fractions of an epoch, a new stage starts afresh, and the
legend lists validation only when the run has a validation part."""

from __future__ import annotations

from galview.ml.finetune import FitEvent
from galview.qt.training_curves import TrainingCurves


def _legend(plot) -> list[str]:
    return [label.text for _sample, label in plot.legend.items]


def _epoch(curves, stage, epoch, steps=4, validation=False):
    for batch in range(1, steps + 1):
        curves.add(FitEvent(stage, "batch", epoch, batch, {"loss": 1.0 / (epoch + batch)}))
    values = {"loss": 0.5 / epoch, "accuracy": 0.5 + 0.1 * epoch}
    if validation:
        values |= {"val_loss": 0.6 / epoch, "val_accuracy": 0.5}
    curves.add(FitEvent(stage, "epoch", epoch, steps, values))


def test_curves_without_validation_do_not_list_it(qtbot):
    curves = TrainingCurves()
    qtbot.addWidget(curves)
    _epoch(curves, "fold 1/2", 1)
    _epoch(curves, "fold 1/2", 2)
    assert curves.count("loss") == 2 and curves.count("batch_loss") == 8 and curves.count("val_loss") == 0
    assert curves.points["batch_loss"][0][:4] == [0.25, 0.5, 0.75, 1.0]  # fractions of the first epoch
    assert _legend(curves.loss_plot) == ["batches", "train"]
    assert _legend(curves.accuracy_plot) == ["train"]


def test_validation_is_listed_once_it_has_points_and_a_new_stage_starts_afresh(qtbot):
    curves = TrainingCurves()
    qtbot.addWidget(curves)
    _epoch(curves, "final", 1, validation=True)
    assert _legend(curves.loss_plot) == ["batches", "train", "validation"]
    assert _legend(curves.accuracy_plot) == ["train", "validation"]
    assert "final" in curves.loss_plot.titleLabel.text
    _epoch(curves, "fold 2/2", 1)
    assert curves.count("val_loss") == 0 and curves.count("loss") == 1
    assert _legend(curves.loss_plot) == ["batches", "train"]


def test_both_plots_share_the_epoch_axis(qtbot):
    """After the first epoch the accuracy plot, with one point, spanned epochs −5 to 5 beside the loss
    plot's 0.25 to 1 (seen under Xvfb while retraining)."""
    curves = TrainingCurves()
    qtbot.addWidget(curves)
    curves.show()
    _epoch(curves, "fold 1/5", 1)
    qtbot.wait(50)
    loss_x = curves.loss_plot.getViewBox().viewRange()[0]
    accuracy_x = curves.accuracy_plot.getViewBox().viewRange()[0]
    assert accuracy_x == loss_x and loss_x[0] > 0
