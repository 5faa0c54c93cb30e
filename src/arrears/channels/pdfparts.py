"""What every PDF the system prints shares: the CJK font and the QR code of a check page.

One place, so a lawyer's letter, a visit authorisation and a printed message cannot drift
apart in how they render Chinese or encode a verification link. No Django.
"""

from __future__ import annotations

from reportlab import rl_config  # type: ignore[import-untyped]
from reportlab.graphics.barcode.qr import QrCodeWidget  # type: ignore[import-untyped]
from reportlab.graphics.shapes import Drawing  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.cidfonts import UnicodeCIDFont  # type: ignore[import-untyped]

# ReportLab checks every attribute set on a graphics shape against its declared type, a help
# while writing drawing code (its docs suggest turning it off in production): a QR code is some
# 400 rectangles of several attributes each, and the checks were a quarter of drawing one
# (27 -> 21 ms; the same PDF bytes). Off for the process: every drawing here is built by code.
rl_config.shapeChecking = 0

#: ReportLab's built-in CID font (Adobe Song, GB 2312, also covers Latin): no font files needed.
FONT = "STSong-Light"


def cjk_font() -> str:
    """The font's name, registered with ReportLab on first use."""
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def qr_drawing(url: str, size: float) -> Drawing:
    """A ``size`` × ``size`` point drawing of the QR code of ``url`` (error correction M).

    The code is encoded once: the widget's shapes are drawn here and the drawing holds them.
    (``getBounds`` draws the widget to measure it, and rendering a drawing that holds the
    widget draws it again; encoding — eight mask patterns tried in pure Python — is most of a
    letter's time.) The bounds are the widget's box, its first shape."""
    widget = QrCodeWidget(url, barLevel="M")
    shapes = widget.draw()
    x0, y0, x1, y1 = shapes.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(shapes)
    return drawing
