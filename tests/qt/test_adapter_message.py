"""The window scores survey FITS through the physical adapter with no logic of its own, and says so (issue 11)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

SHIPPED = Path(__file__).resolve().parents[2] / "models" / "deepshadows_des_sim.keras"  # this checkout's


def test_window_scores_fits_through_the_adapter_and_says_what_it_did(window, qtbot, shared_data):
    messages: list[str] = []
    window.scoring.message.connect(messages.append)
    window.scoring.load_model(SHIPPED)
    qtbot.waitUntil(lambda: window.state.model is not None and not window.runner.busy, timeout=120000)
    window.open_path(shared_data / "legacy_dwarfs")
    qtbot.waitUntil(
        lambda: not window.runner.busy and window.state.scores is not None and window.state.scores.complete,
        timeout=60000,
    )
    probs = window.state.scores.probs[:, 0]
    assert np.ptp(probs) > 0.3, probs
    done = [m for m in messages if m.startswith("Scored 12 cutouts")]
    assert (
        len(done) == 1
        and "; adapter: 256×256 g,r,z nanomaggies at 0.200″/px → 64×64 viewer colours" in done[0]
    )
