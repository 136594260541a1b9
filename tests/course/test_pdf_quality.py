"""The printed book: no line wider than the page. `overfull_boxes` reads a pdflatex log; the book's
own log is checked when SYMNN_COURSE_LOG names it (the session's build: compile course.tex with
pdflatex, twice, and point the variable at course.log)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from symnn.course.texlog import LIMIT_PT, describe, overfull_boxes, too_wide

LOG = r"""
Overfull \hbox (525.73401pt too wide) detected at line 1850
 []
Underfull \hbox (badness 10000) in paragraph at lines 12--14
Overfull \hbox (0.4pt too wide) in paragraph at lines 454--460
[]\T1/lmr/m/n/10.95 rewriting
Overfull \hbox (12.5pt too wide) in alignment at lines 30--44
Overfull \vbox (3.0pt too high) has occurred while \output is active
"""


def test_overfull_boxes_are_read_with_their_width_and_line():
    assert overfull_boxes(LOG) == [(525.73401, 1850), (0.4, 454), (12.5, 30), (3.0, None)]
    assert too_wide(LOG) == [(525.73401, 1850), (12.5, 30), (3.0, None)]
    assert overfull_boxes("Underfull \\hbox (badness 10000)\n") == []
    assert describe(too_wide(LOG)[:1]) == "525.7 pt at course.tex line 1850"


@pytest.mark.skipif(not os.environ.get("SYMNN_COURSE_LOG"), reason="SYMNN_COURSE_LOG names no course.log")
def test_the_book_has_no_line_wider_than_the_page():
    log = Path(os.environ["SYMNN_COURSE_LOG"]).read_text(encoding="utf-8", errors="replace")
    assert "Output written on" in log, "the log is of a pdflatex run that wrote no PDF"
    wide = too_wide(log)
    assert not wide, f"{len(wide)} overfull box(es) over {LIMIT_PT} pt:\n" + describe(wide)
