"""Cutout ▸ Measure the candidate (Sérsic fit): the real Legacy Survey dwarfs, whose FITS give no BUNIT."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PyQt6.QtWidgets import QInputDialog

from galview.core.grid_table import shown_table
from galview.qt.grid import RankingRole


@pytest.fixture
def dwarfs(window, shared_data):
    assert window.open_path(shared_data / "legacy_dwarfs")
    return window


def test_the_current_and_selected_cutouts_are_measured_asking_for_the_zero_point_once(
    dwarfs, qtbot, monkeypatch
):
    win = dwarfs
    asked = []
    monkeypatch.setattr(
        QInputDialog, "getDouble", staticmethod(lambda *a, **k: asked.append(a[2]) or (22.5, True))
    )
    win.state.set_current(0)
    win.measure_action.trigger()
    qtbot.waitUntil(lambda: not win.runner.busy, timeout=30000)
    assert len(asked) == 1 and "states no flux unit (BUNIT)" in asked[0] and "--" not in asked[0]
    field = win.metadata.fields["Photometry"]
    text = field.text()
    assert text.startswith("μ0 ") and "re " in text and "(g band) · g−r " in text and " · g−z " in text
    assert "DES Y3 LSBG cuts" in field.toolTip()
    errors = win.measuring.fits[0].errors  # every number with its error, and what the errors leave out
    assert f"r_eff = {win.measuring.fits[0].r_eff:.2f} ± {errors.r_eff:.2f}″" in field.toolTip()
    assert "the pixel noise's alone" in field.toolTip() and "nan" not in field.toolTip()
    assert win.statusBar().currentMessage().startswith("#0: μ0 ")
    fit, aperture = win.measuring.fits[0], win.detail.aperture  # the half-light ellipse over the cutout
    xs, ys = aperture.getData()
    radius = np.hypot(xs - fit.x - 0.5, ys - fit.y - 0.5)
    assert radius.max() == pytest.approx(fit.r_eff / 0.2, rel=1e-3)  # semi-major axis in 0.2″ pixels
    assert radius.min() == pytest.approx(fit.r_eff / 0.2 * fit.axis_ratio, rel=1e-3)
    win.state.set_current(1)
    xs, _ys = aperture.getData()
    assert field.text() == "—" and (xs is None or len(xs) == 0)  # not measured yet: no ellipse
    win.state.set_selection([1, 2, 3])
    win.measure_action.trigger()
    qtbot.waitUntil(lambda: not win.runner.busy, timeout=30000)
    assert len(asked) == 1  # the zero point is remembered for the collection
    assert win.statusBar().currentMessage().startswith("3 of 3 cutouts fitted in the g band (3 reliable); ")
    assert win.state.sorting.sort == "photometry"  # a batch: sorted by ⟨μ⟩e, faintest first
    faint = [win.measuring.fits[i].mean_mu_eff for i in win.state.order[:4].tolist()]
    assert faint == sorted(faint, reverse=True) and set(win.state.order[:4].tolist()) == {0, 1, 2, 3}
    model = win.grid.grid_model
    assert model.data(model.cell_of(2), RankingRole).startswith("μe 2")
    assert model.data(model.cell_of(7), RankingRole) in (None, "")  # not measured: no number
    table = shown_table(win.state, win.labelling.classes)  # File ▸ Export the grid as shown
    assert (
        float(table["mean_mu_eff"][0]) == pytest.approx(faint[0], abs=1e-5) and table["mean_mu_eff"][-1] == ""
    )
    win.state.set_current(2)
    assert field.text().startswith("μ0 ")


def test_display_colours_are_refused_in_one_message(window, qtbot, shared_data):
    errors = []
    window.measuring.error.connect(errors.append)
    assert window.open_path(shared_data / "des_lsbg" / "des_lsbg_dev.npz")
    window.measuring.measure()  # the job finds it out
    qtbot.waitUntil(lambda: bool(errors), timeout=10000)
    assert len(errors) == 1 and errors[0].startswith("No photometry: ")
    assert "holds uint8 pixels (display colours, not fluxes)" in errors[0] and not window.measuring.fits


def test_cancelling_the_zero_point_measures_nothing(dwarfs, qtbot, monkeypatch):
    asked, errors = [], []
    dwarfs.measuring.error.connect(errors.append)
    monkeypatch.setattr(
        QInputDialog, "getDouble", staticmethod(lambda *a, **k: asked.append(1) or (0.0, False))
    )
    dwarfs.measuring.measure()
    qtbot.waitUntil(lambda: bool(asked) and not dwarfs.runner.busy, timeout=10000)
    qtbot.wait(100)
    assert asked == [1] and not dwarfs.runner.busy and not dwarfs.measuring.fits and not errors


def test_a_simulated_survey_is_measured_from_its_fluxes_without_asking(window, qtbot, tmp_path):
    """What the demo is: colours in the grid, fluxes (with their unit and pixel scale) beside them."""
    from galview.sim.generate import write_simulation
    from galview.sim.surveys import SURVEYS

    path = write_simulation(tmp_path / "sim.h5", SURVEYS["des"], 4, seed=3, workers=1)
    assert window.open_path(path)
    window.state.set_current(1)
    window.measure_action.trigger()  # no dialog is answered: none may be asked
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=30000)
    assert window.metadata.fields["Photometry"].text().startswith("μ0 ")
    assert window.measuring.band == "g"
    window.fit_residual_action.trigger()  # the residual of the fluxes, not of the colours shown
    panel = window.detail.residual
    assert panel.rgb is not None and panel.caption.text().startswith("g − Sérsic model")
    fluxes, opened = window.measuring._fluxes  # the flux file stays open while residuals are shown
    assert opened and fluxes.dtype == np.float32
    window.state.set_current(2)
    assert window.measuring._fluxes[0] is fluxes and "not measured" in panel.caption.text()
    window.fit_residual_action.trigger()
    assert window.measuring._fluxes is None and fluxes._file is None  # hidden: the file is closed


def test_the_flux_file_is_never_opened_in_the_gui_thread(window, qtbot, tmp_path, monkeypatch):
    """Opening and closing a simulation's flux file takes 0.2–0.5 s: the job checks it, in its thread."""
    import threading

    import galview.io.measuring as measuring
    from galview.sim.generate import write_simulation
    from galview.sim.surveys import SURVEYS

    path = write_simulation(tmp_path / "sim.h5", SURVEYS["des"], 3, seed=3, workers=1)
    opened_here, fluxes_of = [], measuring.fluxes_of

    def counted(collection):
        opened_here.append(threading.current_thread() is threading.main_thread())
        return fluxes_of(collection)

    monkeypatch.setattr(measuring, "fluxes_of", counted)

    def measure(current):
        window.state.set_current(current)
        assert window.measuring.measure()
        qtbot.waitUntil(lambda: not window.runner.busy, timeout=30000)

    assert window.open_path(path)
    measure(0)
    assert opened_here == [False]
    measure(1)
    assert window.open_path(path)
    measure(2)
    assert opened_here == [False, False, False]
    assert set(window.measuring.fits) == {0, 1, 2}


def test_the_fits_residual_is_shown_beside_the_cutout_on_request(dwarfs, qtbot, monkeypatch):
    win, panel = dwarfs, dwarfs.detail.residual
    monkeypatch.setattr(QInputDialog, "getDouble", staticmethod(lambda *a, **k: (22.5, True)))
    win.state.set_current(4)
    assert panel.isHidden()
    win.fit_residual_action.trigger()  # asked for before anything is measured
    assert not panel.isHidden() and panel.rgb is None and "not measured" in panel.caption.text()
    win.measure_action.trigger()
    qtbot.waitUntil(lambda: not win.runner.busy, timeout=30000)
    fit = win.measuring.fits[4]
    assert panel.caption.text() == "g − Sérsic model (±5σ)" and "white" in panel.toolTip()
    cube = win.state.collection.get(4)
    residual = cube[..., 0] - fit.model_image(cube.shape[:2])
    grey = panel.rgb[..., 0].astype(float)
    assert panel.rgb.shape == (*cube.shape[:2], 3)
    np.testing.assert_allclose(grey, np.clip((residual / (5 * fit.noise) + 1) / 2, 0, 1) * 255, atol=1.01)
    assert abs(np.median(grey) - 127.5) < 10  # mostly noise about zero: mid-grey
    from PyQt6.QtCore import QPoint, QPointF
    from PyQt6.QtTest import QTest

    qtbot.wait(100)
    point = panel.plot.mapFromScene(panel.view.mapViewToScene(QPointF(120.5, 60.5)))  # pixel (120, 60)
    QTest.mouseMove(panel.plot.viewport(), QPoint(int(point.x()), int(point.y())))
    value = float(np.float32(residual[60, 120]))  # the panel keeps float32
    wanted = f"x=120 y=60  g − model = {value:.4g} ({value / fit.noise:+.1f}σ)"
    qtbot.waitUntil(lambda: win.detail.readout.text() == wanted, timeout=2000)
    win.state.set_current(5)  # not measured: said, no stale image or readout
    assert panel.rgb is None and "not measured" in panel.caption.text()
    assert win.detail.residual_readout_at(120.5, 60.5) == ""
    win.fit_residual_action.trigger()
    assert panel.isHidden() and not win.fit_residual_action.isChecked()


def test_what_was_measured_is_there_when_the_collection_is_opened_again(
    dwarfs, qtbot, monkeypatch, shared_data
):
    asked = []
    monkeypatch.setattr(
        QInputDialog, "getDouble", staticmethod(lambda *a, **k: asked.append(a[2]) or (22.5, True))
    )
    win = dwarfs
    win.state.set_selection([2, 6])
    win.measure_action.trigger()
    qtbot.waitUntil(lambda: not win.runner.busy, timeout=30000)
    text = win.measuring.fits[6].describe("g")
    assert win.open_path(shared_data / "des_lsbg" / "des_lsbg_dev.npz") and not win.measuring.fits
    assert win.open_path(shared_data / "legacy_dwarfs")
    qtbot.waitUntil(lambda: set(win.measuring.fits) == {2, 6}, timeout=5000)  # read in a thread
    assert win.measuring.band == "g"
    assert win.statusBar().currentMessage().startswith("Photometry of 2 cutouts measured before is shown")
    win.state.set_current(6)
    assert win.metadata.fields["Photometry"].text() == text
    assert "photometry" in win.state.rankings
    win.state.set_current(7)
    win.measure_action.trigger()  # the zero point given before is remembered: not asked again
    qtbot.waitUntil(lambda: not win.runner.busy, timeout=30000)
    assert len(asked) == 1 and set(win.measuring.fits) == {2, 6, 7}


def test_a_damaged_kept_photometry_file_is_said_and_the_window_goes_on(window, qtbot, shared_data):
    from galview.core.collection import fingerprint
    from galview.io import open_collection
    from galview.io.photometry_files import photometry_path

    with open_collection(shared_data / "legacy_dwarfs") as dwarfs:
        path = photometry_path(fingerprint(dwarfs))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b'{"fingerprint": "\xff\x00 cut sh')
    errors = []
    window.measuring.error.connect(errors.append)
    assert window.open_path(shared_data / "legacy_dwarfs")
    qtbot.waitUntil(lambda: not window.measuring._reader.busy, timeout=5000)
    assert len(errors) == 1 and str(path) in errors[0] and "is not photometry of this collection" in errors[0]
    assert not window.measuring.fits and window.metadata.fields["Photometry"].text() == "—"


def test_measured_cutouts_can_be_sorted_reddest_first(dwarfs, qtbot, monkeypatch):
    from galview.core.forced_photometry import colours

    win = dwarfs
    monkeypatch.setattr(QInputDialog, "getDouble", staticmethod(lambda *a, **k: (22.5, True)))
    win.state.set_selection([0, 1, 2, 3])
    win.measure_action.trigger()
    qtbot.waitUntil(lambda: not win.runner.busy, timeout=30000)
    ranking = win.state.rankings["colour"]
    assert ranking.title == "colour g−r (measured), reddest first"  # g r z: no g − i to split by
    win.state.set_sorting(sort="colour")
    first = win.state.order[:4].tolist()
    g_r = [dict((n, v) for n, v, _e in colours(win.measuring.fits[i].magnitudes))["g−r"] for i in first]
    assert set(first) == {0, 1, 2, 3} and g_r == sorted(g_r, reverse=True)
    model = win.grid.grid_model
    assert model.data(model.cell_of(first[0]), RankingRole) == f"g−r {g_r[0]:.2f}"
    table = shown_table(win.state, win.labelling.classes)
    assert float(table["g_r"][0]) == pytest.approx(g_r[0], abs=1e-5) and table["g_r"][-1] == ""


def test_the_window_goes_on_with_what_galview_measure_chose(window, qtbot, shared_data, tmp_path, capsys):
    """Measured on the command line in r through a PSF: the window's next measurement does the same."""
    from galview.cli import main

    folder = shared_data / "legacy_dwarfs"
    args = ["measure", str(folder), "--zeropoint", "22.5", "--band", "r", "--psf-fwhm", "1.0"]
    assert main([*args, "--indices", "4", "-o", str(tmp_path / "p.csv")]) == 0
    assert window.open_path(folder)
    qtbot.waitUntil(lambda: set(window.measuring.fits) == {4}, timeout=5000)
    window.state.set_current(4)
    field = window.metadata.fields["Photometry"]
    assert "(r band)" in field.text() and "through a PSF of 1″ FWHM" in field.toolTip()
    window.state.set_current(8)
    window.measure_action.trigger()  # no dialog: the zero point came with what was kept
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=30000)
    assert set(window.measuring.fits) == {4, 8} and window.measuring.fits[8].psf_fwhm == 1.0
    assert window.measuring.calibration.band_name == "r"


def test_the_band_and_the_psf_are_chosen_in_the_window(dwarfs, qtbot, monkeypatch):
    from PyQt6.QtWidgets import QDialog

    from galview.qt.photometry_options import PhotometryOptionsDialog

    win = dwarfs
    monkeypatch.setattr(QInputDialog, "getDouble", staticmethod(lambda *a, **k: (22.5, True)))
    shown = []

    def answer(dialog):
        shown.append([dialog.band.itemText(k) for k in range(dialog.band.count())])
        dialog.band.setCurrentText("z")
        dialog.psf.setValue(1.2)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(PhotometryOptionsDialog, "exec", answer)
    assert win.photometry_options_action.isEnabled()
    win.photometry_options_action.trigger()
    assert shown == [["g", "r", "z"]] and win.measuring.options == ("z", 1.2)
    assert (
        win.statusBar().currentMessage()
        == "The next measurements fit the z band through a PSF of 1.2″ FWHM (Ctrl+M)"
    )
    win.state.set_current(3)
    win.measure_action.trigger()
    qtbot.waitUntil(lambda: not win.runner.busy, timeout=30000)
    fit = win.measuring.fits[3]
    assert fit.psf_fwhm == 1.2 and win.measuring.band == "z"
    assert "(z band)" in win.metadata.fields["Photometry"].text()
    monkeypatch.setattr(PhotometryOptionsDialog, "exec", lambda dialog: QDialog.DialogCode.Rejected)
    assert not win.measuring.ask_options() and win.measuring.options == ("z", 1.2)  # cancelled: unchanged
    import galview.io.measuring as measuring

    def not_here(_collection):
        raise AssertionError("the flux file opened again in the window's thread")

    monkeypatch.setattr(measuring, "fluxes_of", not_here)  # the bands are known once something is measured
    monkeypatch.setattr(PhotometryOptionsDialog, "exec", answer)
    assert win.measuring.ask_options() and shown[-1] == ["g", "r", "z"]


def test_photometry_options_of_display_colours_are_refused(window, shared_data):
    errors = []
    window.measuring.error.connect(errors.append)
    assert window.open_path(shared_data / "des_lsbg" / "des_lsbg_dev.npz")
    assert not window.measuring.ask_options()
    assert "holds uint8 pixels, not calibrated fluxes" in errors[0]


def test_the_measured_fits_are_saved_as_a_figure(dwarfs, qtbot, monkeypatch, tmp_path):
    from PIL import Image
    from PyQt6.QtWidgets import QFileDialog

    from galview.core.mosaic import PAD

    win = dwarfs
    path = tmp_path / "fits.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(path), "")))
    assert not win.measuring.save_figure() and "Nothing measured to draw" in win.statusBar().currentMessage()
    monkeypatch.setattr(QInputDialog, "getDouble", staticmethod(lambda *a, **k: (22.5, True)))
    win.state.set_selection([1, 5, 9])
    win.measure_action.trigger()
    qtbot.waitUntil(lambda: not win.runner.busy, timeout=30000)
    win.state.set_selection([])
    assert win.measuring.figure_cutouts() == [i for i in win.state.order.tolist() if i in (1, 5, 9)]
    win.fits_figure_action.trigger()
    saved = f"Data, model and residual of 3 fits saved to {path}"
    qtbot.waitUntil(lambda: win.statusBar().currentMessage() == saved, timeout=10000)  # a job drew it
    assert path.is_file()
    width, height = Image.open(path).size
    assert width == PAD + 6 * (128 + PAD) and height > 2 * 128  # two fits a row: two rows
    win.state.set_selection([5, 7])  # 7 is not measured: only 5 is drawn
    assert win.measuring.figure_cutouts() == [5]
    assert not win.measuring.save_figure(tmp_path / "fits.jpg")  # refused, said, nothing written
    assert not (tmp_path / "fits.jpg").exists()


def test_the_measured_candidates_in_the_size_and_surface_brightness_plane(dwarfs, qtbot, monkeypatch):
    import math

    from galview.core.photometry import LSB_MIN_MEAN_MU, LSB_MIN_R_EFF

    win, plane = dwarfs, dwarfs.plane
    assert win.plane_dock.isHidden() and not win.plane_action.isChecked()
    win.plane_action.trigger()
    assert win.plane_dock.isVisible() and "Measure cutouts" in plane.plot.plotItem.titleLabel.text
    monkeypatch.setattr(QInputDialog, "getDouble", staticmethod(lambda *a, **k: (22.5, True)))
    assert win.labelling.label(1, [2])  # an LSBG, drawn in the labelled group's colour
    win.state.set_selection([0, 2, 3, 4])
    win.measure_action.trigger()
    qtbot.waitUntil(lambda: not win.runner.busy, timeout=30000)
    reliable = {i for i in (0, 2, 3, 4) if win.measuring.fits[i].reliable}
    drawn = {}
    for scatter in plane.scatters.values():
        xs, ys = scatter.getData()
        for x, y, index in zip(xs, ys, scatter.data["data"], strict=True):
            drawn[int(index)] = (x, y)
    assert set(drawn) == reliable and reliable
    fit = win.measuring.fits[3]
    assert drawn[3] == pytest.approx((math.log10(fit.r_eff), fit.mean_mu_eff))
    assert 2 in plane.scatters[1].data["data"] and 2 not in plane.scatters[None].data["data"]
    lines = [item for item in plane.plot.items() if type(item).__name__ == "InfiniteLine"]
    assert sorted(line.value() for line in lines) == pytest.approx(
        sorted([math.log10(LSB_MIN_R_EFF), LSB_MIN_MEAN_MU])
    )
    win.state.set_current(3)  # the current cutout ringed
    assert plane.ring.getData()[0].tolist() == pytest.approx([math.log10(fit.r_eff)])
    scatter = next(s for s in plane.scatters.values() if 0 in s.data["data"])
    spot = next(p for p in scatter.points() if p.data() == 0)
    plane._clicked(scatter, [spot])  # a click on a point shows its cutout
    assert win.state.current == 0
    win.plane_dock.close()
    assert not win.plane_action.isChecked()


def _two_measured(window, qtbot, monkeypatch):
    """``window`` with cutouts 2 and 6 measured (the zero point given as 22.5)."""
    monkeypatch.setattr(QInputDialog, "getDouble", staticmethod(lambda *a, **k: (22.5, True)))
    window.state.set_selection([2, 6])
    window.measure_action.trigger()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=30000)
    return window


def _slow_reads_recorded(monkeypatch, release=None) -> list[tuple[str, bool]]:
    """Every read and write of kept photometry from now on, with whether it ran in the GUI thread; the first
    read answers only once ``release`` (a threading.Event) is set, where one is given."""
    from galview.io import photometry_files

    calls = []
    load, save = photometry_files.load_photometry, photometry_files.save_photometry

    def slow_load(*args):
        first = not calls
        calls.append(("read", threading.current_thread() is threading.main_thread()))
        kept = load(*args)
        if release is not None and first:  # read now, answers later
            assert release.wait(30)
        return kept

    def recorded_save(*args):
        calls.append(("written", threading.current_thread() is threading.main_thread()))
        return save(*args)

    monkeypatch.setattr(photometry_files, "load_photometry", slow_load)
    monkeypatch.setattr(photometry_files, "save_photometry", recorded_save)
    return calls


def test_kept_photometry_is_read_and_written_outside_the_gui_thread(dwarfs, qtbot, monkeypatch, shared_data):
    """10,000 kept fits take about 0.5 s to read or write: never in the window's thread."""
    calls = _slow_reads_recorded(monkeypatch)
    win = _two_measured(dwarfs, qtbot, monkeypatch)
    assert win.open_path(shared_data / "legacy_dwarfs")
    qtbot.waitUntil(lambda: set(win.measuring.fits) == {2, 6}, timeout=5000)
    assert ("written", False) in calls and calls[-1] == ("read", False)  # the Measure's; the opening's
    assert all(not in_gui_thread for _what, in_gui_thread in calls)


def test_once_the_kept_photometry_is_read_a_measure_adds_to_it_without_reading_it_again(
    dwarfs, qtbot, monkeypatch, shared_data
):
    """100,000 kept fits take about 4 s to read: the job adds its line to the file and its result to what
    the window read."""
    from galview.io.photometry_files import load_photometry, photometry_path

    win = _two_measured(dwarfs, qtbot, monkeypatch)
    assert win.open_path(shared_data / "legacy_dwarfs")
    qtbot.waitUntil(lambda: set(win.measuring.fits) == {2, 6}, timeout=5000)
    lines = photometry_path(win.state.fingerprint).read_text(encoding="utf-8").count("\n")
    calls = _slow_reads_recorded(monkeypatch)
    win.state.set_selection([])
    win.state.set_current(7)
    win.measure_action.trigger()
    qtbot.waitUntil(lambda: not win.runner.busy and 7 in win.measuring.fits, timeout=30000)
    assert calls == [] and set(win.measuring.fits) == {2, 6, 7}
    assert photometry_path(win.state.fingerprint).read_text(encoding="utf-8").count("\n") == lines + 1
    assert set(load_photometry(win.state.fingerprint, win.state.n).fits) == {2, 6, 7}


def test_what_galview_measure_added_meanwhile_is_shown_after_the_next_measure(
    dwarfs, qtbot, monkeypatch, shared_data
):
    """The file changed since the window read it: the job reads it again after its append."""
    from galview.io.photometry_files import add_to_kept

    win = _two_measured(dwarfs, qtbot, monkeypatch)
    assert win.open_path(shared_data / "legacy_dwarfs")
    qtbot.waitUntil(lambda: set(win.measuring.fits) == {2, 6}, timeout=5000)
    fit = win.measuring.fits[2]
    add_to_kept(win.state.fingerprint, win.state.n, win.measuring.calibration, [(9, fit)])  # the CLI's way
    assert 9 not in win.measuring.fits
    win.state.set_selection([])
    win.state.set_current(7)
    win.measure_action.trigger()
    qtbot.waitUntil(lambda: not win.runner.busy and 7 in win.measuring.fits, timeout=30000)
    assert set(win.measuring.fits) == {2, 6, 7, 9}


def test_a_measure_before_the_kept_photometry_is_read_keeps_both(dwarfs, qtbot, monkeypatch, shared_data):
    win = _two_measured(dwarfs, qtbot, monkeypatch)
    opened = threading.Event()
    calls = _slow_reads_recorded(monkeypatch, release=opened)
    assert win.open_path(shared_data / "legacy_dwarfs")
    assert not win.measuring.fits and win.measuring._reader.busy  # still reading
    win.state.set_selection([])
    win.state.set_current(7)
    win.measure_action.trigger()  # the job adds 7 to what is kept on disk, whatever the window shows yet
    qtbot.waitUntil(lambda: not win.runner.busy, timeout=30000)
    assert set(win.measuring.fits) == {2, 6, 7}
    opened.set()  # the read at opening answers now, with less than the job kept: not shown
    qtbot.waitUntil(lambda: not win.measuring._reader._threads, timeout=5000)
    qtbot.wait(50)
    assert calls[0] == ("read", False) and set(win.measuring.fits) == {2, 6, 7}
    from galview.io.photometry_files import load_photometry

    assert set(load_photometry(win.state.fingerprint, win.state.n).fits) == {2, 6, 7}


def test_photometry_read_for_a_collection_closed_meanwhile_is_not_shown(
    dwarfs, qtbot, monkeypatch, shared_data
):
    win = _two_measured(dwarfs, qtbot, monkeypatch)
    opened = threading.Event()
    calls = _slow_reads_recorded(monkeypatch, release=opened)
    assert win.open_path(shared_data / "legacy_dwarfs")
    assert win.open_path(shared_data / "des_lsbg" / "des_lsbg_dev.npz")  # before the read has answered
    opened.set()
    qtbot.waitUntil(lambda: not win.measuring._reader._threads, timeout=5000)
    qtbot.wait(50)
    # the dwarfs' kept fits were read (the DES cutouts have none to read) and are not shown
    assert calls == [("read", False)] and not win.measuring.fits and win.measuring.calibration is None


def test_a_zero_point_given_after_the_refused_job_has_ended_is_measured(dwarfs, qtbot, monkeypatch):
    """A real dialog runs its own event loop: the refused job has ended by the time the number is given."""
    win = dwarfs

    def typed_slowly(*_args, **_kwargs):
        qtbot.waitUntil(lambda: not win.runner.busy, timeout=10000)
        return 22.5, True

    monkeypatch.setattr(QInputDialog, "getDouble", staticmethod(typed_slowly))
    win.state.set_current(3)
    win.measure_action.trigger()
    qtbot.waitUntil(lambda: 3 in win.measuring.fits, timeout=30000)
    assert win.measuring.calibration.zeropoint == 22.5


def test_nothing_is_asked_for_a_collection_closed_before_its_job_was_refused(
    dwarfs, qtbot, monkeypatch, shared_data
):
    asked, errors = [], []
    dwarfs.measuring.error.connect(errors.append)
    monkeypatch.setattr(
        QInputDialog, "getDouble", staticmethod(lambda *a, **k: asked.append(1) or (22.5, True))
    )
    dwarfs.measuring.measure()  # the job will refuse: the FITS files give no zero point
    assert dwarfs.open_path(shared_data / "des_lsbg" / "des_lsbg_dev.npz")
    qtbot.waitUntil(lambda: not dwarfs.runner.busy, timeout=10000)
    qtbot.wait(100)
    assert not asked and not errors and not dwarfs.measuring.fits


def test_a_job_that_takes_the_runner_first_delays_the_measure_it_does_not_lose_it(
    dwarfs, qtbot, monkeypatch, tmp_path
):
    """The window starts scoring when a job ends (a new collection): Measure, refused for its zero point,
    starts again once that job has ended."""
    win = dwarfs
    monkeypatch.setattr(QInputDialog, "getDouble", staticmethod(lambda *a, **k: (22.5, True)))
    other_jobs = []

    def take_the_runner(name, _outcome):
        if name == "measure" and not other_jobs:  # as the automatic scoring does, before Measure's restart
            other_jobs.append(win.runner.start("export_table", tmp_path / "t.csv", {"a": list(range(10))}))

    win.runner.finished.connect(take_the_runner)
    win.state.set_current(5)
    win.measure_action.trigger()
    qtbot.waitUntil(lambda: 5 in win.measuring.fits, timeout=30000)
    assert other_jobs and other_jobs[0] is not None and (tmp_path / "t.csv").exists()
