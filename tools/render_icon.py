"""Render the application icon ``resources/galview.svg`` to ``resources/galview.png`` (256 × 256).

    QT_QPA_PLATFORM=offscreen python tools/render_icon.py [--size 256]

Run it after editing the SVG and commit both files. The PNG is what the window and the desktop entry
use (a PNG needs no SVG plugin at run time).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

RESOURCES = Path(__file__).resolve().parents[1] / "resources"


def render(svg: Path, png: Path, size: int) -> None:
    """Draw ``svg`` onto a transparent ``size`` × ``size`` image and save it as ``png``."""
    from PyQt6.QtCore import Qt
    from PyQt6.QtGui import QGuiApplication, QImage, QPainter
    from PyQt6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # QPainter needs one
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"{svg}: not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    if not image.save(str(png), "PNG"):
        raise SystemExit(f"{png}: could not write")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    args = parser.parse_args()
    png = RESOURCES / "galview.png"
    render(RESOURCES / "galview.svg", png, args.size)
    print(f"{png}: {png.stat().st_size / 1e3:.1f} kB")


if __name__ == "__main__":
    main()
