"""Cutout ▸ Measure the candidate (Sérsic fit): its magnitude, surface brightness and size in the panel.

The fit (:func:`galview.io.photometry_files.measure_and_keep`) runs on the window's one job runner, for
the current cutout or every selected one; each result is kept for the open collection and shown in the
panel's Photometry row whenever its cutout is current, and the cutouts measured so far make the
``photometry`` ranking (⟨μ⟩e, faintest first; the grid sorts by it after a batch). Measure does not open
the file in the window's thread (a simulation's flux file takes 0.2–0.5 s to open and close): where the
job finds that it does not give the zero point or the pixel scale, the window asks for it (once per
collection) and starts the job again. The photometry options (until something is measured) and the
residual panel do open it there, at the user's request; the figure of the fits is drawn by a job. On
request (Cutout ▸ Show the fit's residual) a panel beside the cutout shows what the fit leaves of the
fitted band, data − model, in grey from −5σ to +5σ of the noise. What was measured is kept on disk for the
collection (:mod:`galview.io.photometry_files`, also written by ``galview measure``) and shown again when
it is opened again.
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QObject, pyqtSignal
from PyQt6.QtWidgets import QInputDialog

from galview.core.errors import UserFacingError
from galview.core.photometry import with_error
from galview.core.rankings import Ranking
from galview.qt.background_call import BackgroundCall
from galview.qt.controller import WindowController

JOB = "measure"
RANKING = "photometry"
COLOUR_RANKING = "colour"


class MeasureController(WindowController):
    """Measures cutouts for the window and shows the current one's photometry.

    Signals
    -------
    message(str), error(str)
        (:class:`~galview.qt.controller.WindowController`)
    measured()
        What is measured changed.
    """

    measured = pyqtSignal()  # what is measured changed (measured, forgotten, or read back)

    def __init__(self, window, parent: QObject | None = None):
        super().__init__(window, parent)
        self.fits: dict[int, object] = {}  # cutout index → SersicFit or why it could not be fitted
        self.calibration = None  # the fits' (its band index for the residual)
        self.residual_shown = False
        self._fluxes = None  # (fluxes, opened here) of the collection, kept open while residuals are shown
        self.options: tuple[str | None, float] = (None, 0.0)  # band (None: g or the first), PSF FWHM″
        self._given: dict[str, float] = {}  # zero point / pixel scale the user gave for this collection
        self._reader = BackgroundCall(self)  # reads the kept photometry of each collection opened
        # the kept file's size when self.fits was read from it or last written (None: self.fits is not all
        # that is kept, or nothing is): the Measure job then adds its results to self.fits, unread again
        self._kept_size = None
        self._values = None  # what the rankings sort by (PhotometryValues), made with the fits in a thread
        self.state.current_changed.connect(lambda _i: self.show_current())
        self.state.collection_changed.connect(self._on_collection)

    def _forget(self) -> None:
        self.fits, self._given, self.calibration = {}, {}, None
        self._values, self._kept_size = None, None
        self.options = (None, 0.0)
        self._close_fluxes()
        self.measured.emit()
        self.show_current()

    @property
    def band(self) -> str:
        """The fitted band's name (``""`` before anything is measured)."""
        return "" if self.calibration is None else self.calibration.band_name

    def _on_collection(self, collection) -> None:
        self._forget()
        self._reader.forget()
        if collection is None:
            return
        from galview.io.photometry_files import load_for_window

        # read in a thread (10,000 kept fits take about 0.5 s, BENCHMARKS.md); the answer is dropped when
        # another collection is opened first, or a Measure job comes back first (it merged what is kept)
        self._reader.call(
            load_for_window, self.state.fingerprint, self.state.n,
            on_returned=self._show_kept, on_errored=self._kept_unreadable,
        )  # fmt: skip

    def _kept_unreadable(self, exc) -> None:
        self.error.emit(str(exc) if isinstance(exc, UserFacingError) else f"The kept photometry: {exc}")

    def _show_kept(self, loaded) -> None:
        """Show the photometry kept for the open collection (read in the background, with what its
        rankings sort by)."""
        if loaded is None or not loaded[0].fits:
            return
        kept, self._values, self._kept_size = loaded
        self.fits, self.calibration = dict(kept.fits), kept.calibration
        self.options = (kept.calibration.band_name, kept.calibration.psf_fwhm)  # the next ones alike
        # measured again with the same numbers, whether the file states them or a person gave them
        self._given = {"zeropoint": kept.calibration.zeropoint, **self._given}
        if kept.calibration.pixel_scale is not None:
            self._given.setdefault("pixel_scale", kept.calibration.pixel_scale)
        self._set_rankings()
        self.message.emit(
            f"Photometry of {len(self.fits)} cutouts measured before is shown (Cutout ▸ Measure the candidate)"
        )
        self.measured.emit()
        self.show_current()

    def shutdown(self) -> None:
        """The window is closing: wait for a read of kept photometry under way."""
        self._reader.shutdown()

    def _close_fluxes(self) -> None:
        if self._fluxes is not None and self._fluxes[1]:
            self._fluxes[0].close()
        self._fluxes = None

    def measure(self) -> bool:
        """Fit the selected cutouts (or the current one) in the background; False if it cannot start."""
        collection = self.state.collection
        if collection is None:
            self.message.emit("Open a collection first")
            return False
        if self.runner.busy:
            self.message.emit(self.runner.busy_message())
            return False
        indices = [int(i) for i in self.state.label_targets()]
        if not indices:
            return False
        self._start(collection, indices)
        return True

    def _start(self, collection, indices: list[int]) -> None:
        """The job; it checks the file first (in its thread: 0.2–0.5 s for a simulation's flux file) and
        refuses at once when the file lacks the zero point or pixel scale, which is then asked for."""
        from galview.io.photometry_files import KeptPhotometry

        band, psf = self.options
        # what is kept, once read, and the file's size then: the job adds its results to it instead of
        # reading the file again when no one else wrote to it since
        known = KeptPhotometry(self.calibration, self.fits) if self._kept_size is not None else None
        self.runner.start(
            JOB, collection, indices, band, self._given.get("zeropoint"), self._given.get("pixel_scale"), psf,
            fingerprint=self.state.fingerprint, known=known, known_size=self._kept_size,
            on_returned=lambda result: self._on_measured(result, collection),
            on_errored=lambda exc: self._refused(exc, collection, indices),
        )  # fmt: skip

    def _refused(self, exc, collection, indices: list[int]) -> None:
        """A Measure job failed: ask for the number the file lacks and measure again, or say why not."""
        if collection is not self.state.collection:
            return
        asked = self._ask_missing(exc.problem) if isinstance(exc, UserFacingError) else None
        if asked is None:  # nothing to ask for
            said = "No photometry" if isinstance(exc, UserFacingError) else "The photometry failed"
            self.error.emit(f"{said}: {exc}")
        elif asked:
            self._when_runner_free(
                lambda: collection is self.state.collection and self._start(collection, indices)
            )

    def _when_runner_free(self, start) -> None:
        """Call ``start`` once the runner is free: at once, or when the job that just failed has let go of
        it — or, if another job took it first (the window's automatic scoring starts when a job ends), when
        that one has ended."""
        if not self.runner.busy:
            start()
            return

        def once(*_ended) -> None:
            if self.runner.busy:  # another job started as this one ended
                return
            self.runner.finished.disconnect(once)
            start()

        self.runner.finished.connect(once)

    def ask_options(self) -> bool:
        """Cutout ▸ Photometry options…: the band and PSF of the next measurements; False if cancelled."""
        from PyQt6.QtWidgets import QDialog

        from galview.io.measuring import fluxes_of
        from galview.qt.photometry_options import PhotometryOptionsDialog

        collection = self.state.collection
        if collection is None:
            self.message.emit("Open a collection first")
            return False
        if self.calibration is not None and self.calibration.bands:  # known: the file is not opened again
            bands, pixels = list(self.calibration.bands), np.dtype(np.float32)
        else:  # a simulation's flux file: 0.2–0.5 s, once per collection
            with fluxes_of(collection) as fluxes:
                bands, pixels = [str(b) for b in fluxes.bands], fluxes.dtype
        if pixels.kind != "f":
            self.error.emit(
                f"No photometry: {collection.source} holds {pixels} pixels, not calibrated fluxes"
            )
            return False
        dialog = PhotometryOptionsDialog(bands, *self.options, len(self.fits), self.window)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return False
        self.options = dialog.choice()
        band, psf = self.options
        through = f"through a PSF of {psf:g}″ FWHM" if psf else "with the PSF left in"
        self.message.emit(f"The next measurements fit the {band} band {through} (Ctrl+M)")
        return True

    def figure_cutouts(self) -> list[int]:
        """The measured cutouts a figure of the fits draws, in the grid's order: those selected when several
        are, else every one measured."""
        wanted = set(self.fits)
        if len(self.state.selection) > 1:
            wanted &= {int(i) for i in self.state.selection}
        order = np.asarray(self.state.order, dtype=np.int64)
        place = np.full(self.state.n, -1, dtype=np.int64)  # each cutout's place in the grid (-1: not shown)
        place[order] = np.arange(len(order))
        shown = [i for i in wanted if place[i] >= 0]
        return sorted(shown, key=lambda i: place[i])

    def save_figure(self, path=None) -> bool:
        """Cutout ▸ Save the fits as a figure…: data, model and residual of each measured cutout (PNG),
        drawn by a job (:func:`galview.io.figure_jobs.write_fits_figure`; here under a wait cursor while
        another job runs). False when there is nothing to draw, or the name is refused at once."""
        from PyQt6.QtWidgets import QFileDialog

        from galview.core.fit_figure import MAX_FITS
        from galview.core.outputs import output_path
        from galview.qt.grid_export import why_not_saved

        cutouts = self.figure_cutouts()
        if not cutouts or self.calibration is None:
            self.message.emit("Nothing measured to draw: Cutout ▸ Measure the candidate (Ctrl+M) first")
            return False
        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                self.window, "Save the fits as a figure", "fits.png", "PNG (*.png)"
            )
            if not path:
                return False
        try:
            checked = output_path(path, (".png",), "the figure of the fits")
        except UserFacingError as exc:
            self.error.emit(str(exc))
            return False
        cutouts, collection, refused = cutouts[:MAX_FITS], self.state.collection, []

        def failed(exc) -> None:
            refused.append(exc)
            self.error.emit(why_not_saved(path, exc, "the figure of the fits"))

        how = self.runner.start_or_run_here(
            "fits_figure", checked, collection, cutouts, [collection.id_of(i) for i in cutouts], self.band,
            {i: self.fits[i] for i in cutouts}, self.calibration.band,
            on_returned=lambda drawn: self.message.emit(
                f"Data, model and residual of {drawn} fits saved to {path}"
            ),
            on_errored=failed,
        )  # fmt: skip
        if how == "started":
            self.message.emit(f"Drawing {len(cutouts)} fits for {path}…")
        return not refused

    def _ask_missing(self, problem: str) -> bool | None:
        """Ask for the zero point or pixel scale the file does not give: True once given, False if
        cancelled, None when ``problem`` is not a missing number."""
        asks = {
            "--zeropoint": (
                "zeropoint",
                "Zero point",
                "AB zero point (magnitude of a flux of 1):",
                22.5,
                -100.0,
                100.0,
            ),
            "--pixel-scale": ("pixel_scale", "Pixel scale", "Arcseconds per pixel:", 0.262, 0.001, 3600.0),
        }
        option = next((option for option in asks if option in problem), None)
        if option is None:
            return None
        key, title, label, value, low, high = asks[option]
        reason = problem.split(": give")[0]  # "states no flux unit (BUNIT)": the option is the command line's
        number, ok = QInputDialog.getDouble(
            self.window, title, f"The file {reason}.\n\n{label}", value, low, high, 4
        )
        if ok:
            self._given[key] = number
        return ok

    def _on_measured(self, result, collection) -> None:
        """Show a Measure job's :class:`~galview.io.photometry_files.MeasuredAndKept`: what is kept now,
        the kept photometry merged in by the job (in its thread, as it wrote it)."""
        if collection is not self.state.collection:
            return  # kept on disk all the same: shown when that collection is opened again
        results = result.results
        self._reader.forget()  # what the job kept includes what was read when the collection opened
        self.fits, self.calibration = result.kept.fits, result.kept.calibration
        self._values, self._kept_size = result.values, result.size
        if result.not_kept is not None:
            self.error.emit(result.not_kept)
        self.measured.emit()
        self._set_rankings()
        if len(results) > 1:  # a batch: its faintest first, each ⟨μ⟩e on its thumbnail
            self.state.set_sorting(sort=RANKING)
        fitted = [fit for _i, fit in results if not isinstance(fit, str)]
        lsb = sum(fit.low_surface_brightness for fit in fitted)
        if len(results) == 1:
            index, fit = results[0]
            text = fit if isinstance(fit, str) else fit.describe(self.band)
            self.message.emit(f"#{index}: {text}")
        else:
            self.message.emit(
                f"{len(fitted)} of {len(results)} cutouts fitted in the {self.band} band "
                f"({sum(fit.reliable for fit in fitted)} reliable); {lsb} pass the LSBG cuts; "
                "sorted by ⟨μ⟩e, faintest first"
            )
        self.show_current()

    def _show_aperture(self, fit) -> None:
        """The fit's half-light ellipse over the cutout (none when it is not measured)."""
        detail = self.window.detail
        if fit is None or isinstance(fit, str):
            detail.clear_aperture()
            return
        detail.show_aperture(fit.x, fit.y, fit.r_eff / fit.pixel_scale, fit.axis_ratio, fit.angle)

    def show_residual(self, shown: bool) -> None:
        """Show or hide the panel of the current fit's residual (Cutout ▸ Show the fit's residual)."""
        self.residual_shown = bool(shown)
        self._show_residual(self.fits.get(self.state.current))

    def _show_residual(self, fit) -> None:
        panel, collection = self.window.detail.residual, self.state.collection
        self.window.detail.clear_residual_pixels()
        if not self.residual_shown or collection is None:
            self._close_fluxes()
            panel.clear()
            panel.hide()
            return
        panel.show()
        frame = tuple(collection.shape[:2])
        if fit is None:
            panel.show_message("No residual: not measured (Cutout ▸ Measure the candidate, Ctrl+M)", frame)
            return
        if isinstance(fit, str):
            panel.show_message(f"No residual: could not be fitted ({fit})", frame)
            return
        from galview.core.display import symmetric_grey
        from galview.core.fit_figure import RESIDUAL_SIGMAS
        from galview.io.measuring import open_fluxes, residual_of

        try:
            if self._fluxes is None:  # a simulation's flux file stays open: reopening it costs ~70 ms
                self._fluxes = open_fluxes(collection)
            residual = residual_of(self._fluxes[0], self.state.current, fit, self.calibration.band)
        except (UserFacingError, ValueError, OSError) as exc:  # a cutout damaged since it was measured
            panel.show_message(f"No residual: {exc}", frame)
            return
        span = RESIDUAL_SIGMAS * fit.noise
        self.window.detail.show_residual_pixels(residual, fit.noise, self.band)
        panel.show_reference(
            symmetric_grey(residual, span),
            frame,
            f"{self.band} − Sérsic model (±{RESIDUAL_SIGMAS:g}σ)",
            (
                f"What the fit leaves: black {-span:.3g}, grey 0, white {span:+.3g} (flux per pixel;"
                f" σ = {fit.noise:.3g}, the noise of the cutout's border). Light the profile missed is white,"
                " light it put where there is none is black.",
            ),
        )

    def _set_rankings(self) -> None:
        self.state.set_ranking(self.ranking())
        colour = self.colour_ranking()
        if colour is not None:
            self.state.set_ranking(colour)

    def colour_ranking(self) -> Ranking | None:
        """The cutouts measured so far by colour, reddest first — g − i where there is one (DES Y3
        splits red from blue by it), else the first colour (g − r) — None with fewer than two bands."""
        if self._values is None or self._values.colour is None:
            return None
        name = self._values.colour_name
        title = f"colour {name} (measured), reddest first"
        return Ranking(COLOUR_RANKING, title, self._values.colour, descending=True, badge=name)

    def ranking(self) -> Ranking:
        """The cutouts measured so far by ⟨μ⟩e, faintest first (unreliable fits and the others last)."""
        values = np.full(self.state.n, np.nan) if self._values is None else self._values.mean_mu_eff
        title = f"mean surface brightness ⟨μ⟩e ({self.band}, measured), faintest first"
        return Ranking(RANKING, title, values, descending=True, badge="μe")

    def show_current(self) -> None:
        """The current cutout's photometry in the panel (``—``: not measured)."""
        field = self.window.metadata.fields["Photometry"]
        fit = self.fits.get(self.state.current)
        self._show_aperture(fit)
        self._show_residual(fit)
        if fit is None:
            field.setText("—")
            field.setToolTip("Cutout ▸ Measure the candidate (Sérsic fit)")
        elif isinstance(fit, str):
            field.setText(f"could not be fitted: {fit}")
            field.setToolTip("")
        else:
            field.setText(fit.describe(self.band))
            cuts = "passes" if fit.low_surface_brightness else "does not pass"
            psf = f"through a PSF of {fit.psf_fwhm:g}″ FWHM" if fit.psf_fwhm else "PSF left in"
            field.setToolTip(
                f"Sérsic fit of the {self.band} band ({psf}): {_numbers_text(fit)}, angle {fit.angle:.0f}°, S/N {fit.snr:.0f}; it "
                f"{cuts} the DES Y3 LSBG cuts (⟨μ⟩e > 24.2, r_eff > 2.5″). The errors (±1σ) are the pixel "
                "noise's alone: on GalView's simulations the fits scatter about three times as much (the "
                "profile does not describe clumps, neighbours' light or the PSF). The dashed ellipse over "
                "the cutout is r_eff"
            )


def _numbers_text(fit) -> str:
    """``"m = 20.21 ± 0.06, μ0 = …, b/a = 0.71 ± 0.03"``: the fit's numbers with their errors."""
    e = fit.errors
    parts = [
        ("m", fit.mag, e.mag, ""),
        ("μ0", fit.mu0, e.mu0, ""),
        ("μe", fit.mu_eff, e.mu_eff, ""),
        ("⟨μ⟩e", fit.mean_mu_eff, e.mean_mu_eff, " mag/arcsec²"),
        ("r_eff", fit.r_eff, e.r_eff, "″"),
        ("n", fit.n, e.n, ""),
        ("b/a", fit.axis_ratio, e.axis_ratio, ""),
    ]
    return ", ".join(f"{name} = {with_error(value, error, 2)}{unit}" for name, value, error, unit in parts)
