"""The dark theme (palette + shipped stylesheet) and the application icon from the shipped resources."""

from __future__ import annotations

import pytest


@pytest.fixture
def app():
    from galview.qt.app import make_app
    from galview.qt.theme import apply_theme

    application = make_app()
    yield application
    apply_theme(application, False)


def test_dark_theme_uses_the_shipped_stylesheet_and_light_clears_it(app, qtbot):
    from PyQt6.QtGui import QPalette
    from PyQt6.QtWidgets import QCheckBox

    from galview.qt.theme import apply_theme, dark_stylesheet

    apply_theme(app, True)
    box = QCheckBox("bin 2×2")
    qtbot.addWidget(box)
    box.ensurePolished()  # a stylesheet Qt cannot parse logs a warning here, which fails the test
    assert app.styleSheet() == dark_stylesheet() and "QDockWidget::title" in app.styleSheet()
    palette = app.palette()
    assert palette.color(QPalette.ColorRole.Window).lightness() < 60
    enabled = palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.Text)
    disabled = palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
    assert disabled.lightness() < enabled.lightness() - 50  # disabled controls look disabled
    apply_theme(app, False)
    assert app.styleSheet() == "" and app.palette().color(QPalette.ColorRole.Window).lightness() > 200


def test_application_icon_comes_from_resources(app):
    from galview.assets import resource_path

    icon = app.windowIcon()
    assert not icon.isNull() and icon.availableSizes()
    assert resource_path("galview.png").is_file()
    assert app.desktopFileName() == "galview"


def test_applying_the_same_theme_again_changes_nothing(app):
    """Each new window applies the theme: the same theme must not replace the style (which re-polishes
    every widget alive, those of closed windows awaiting deletion too)."""
    from galview.qt.theme import apply_theme

    for dark in (True, False):
        apply_theme(app, dark)
        style, palette, sheet = app.style(), app.palette(), app.styleSheet()
        apply_theme(app, dark)
        assert app.style() is style and app.palette() == palette and app.styleSheet() == sheet
