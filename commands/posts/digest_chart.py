"""The digest's chart: verifications per day, stacked by outcome, drawn with matplotlib's
Agg canvas into a small PNG. The object API (a Figure of its own, no pyplot) keeps no global
state, so it is safe in the worker thread the poster draws in, and needs no display."""

from __future__ import annotations

import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from bot.outbox import SupervisorDigest

SERIES = (
    ("completed_verified", "Completed, code verified", "#2e7d32"),
    ("completed_unverified", "Completed without a code", "#f9a825"),
    ("incomplete", "Incomplete", "#c62828"),
)


def digest_chart_png(digest: SupervisorDigest) -> bytes:
    days = [row.label[5:] for row in digest.by_day]  # MM-DD
    figure = Figure(figsize=(6, 3), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    bottom = [0] * len(days)
    for field, label, colour in SERIES:
        values = [getattr(row, field) for row in digest.by_day]
        axes.bar(days, values, bottom=bottom, label=label, color=colour)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    lockouts = [row.lockouts for row in digest.by_day]
    axes.plot(days, lockouts, color="#000000", marker="o", linewidth=1, label="Lockouts")
    axes.set_title(f"PIN Verify: verifications per day ({digest.period})")
    axes.set_ylabel("verifications")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.legend(fontsize=7, loc="upper left")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
