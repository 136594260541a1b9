"""The printed book: no line wider than the page (`overfull_boxes` reads a pdflatex log; the
session's whole build keeps the book's as course.log); its figures at print resolution; its
cross-references and its bibliography."""

from __future__ import annotations

import pytest

from symnn.course.texlog import LIMIT_PT, describe, overfull_boxes, too_wide
from symnn.errors import InputError

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


@pytest.mark.latex
def test_the_book_has_no_line_wider_than_the_page(course_build):
    from conftest import pdflatex_or_skip

    pdflatex_or_skip()
    log = (course_build.out / "course.log").read_text(encoding="utf-8", errors="replace")
    assert "warning:" not in course_build.stdout  # the build's summary warns of a wide line
    assert "Output written on" in log, "the log is of a pdflatex run that wrote no PDF"
    wide = too_wide(log)
    assert not wide, f"{len(wide)} overfull box(es) over {LIMIT_PT} pt:\n" + describe(wide)


# ---- cross-references and the bibliography ----------------------------------------------------


def test_every_reference_prints_in_every_format():
    from symnn.course import references

    nielsen = references.entry("nielsen")
    assert nielsen.text().startswith("Nielsen, M. (2015). Neural Networks and Deep Learning.")
    assert nielsen.url in nielsen.text() and f"<{nielsen.url}>" in nielsen.markdown()
    assert "*Neural Networks and Deep Learning*" in nielsen.markdown()
    assert f'<a href="{nielsen.url}">' in nielsen.html() and "<em>Neural" in nielsen.html()
    assert r"\emph{Neural Networks and Deep Learning}" in nielsen.latex() and r"\url{" in nielsen.latex()
    assert references.entry("lecun").short() == "LeCun et al. (1998)"
    assert references.entry("hinton").when == "n.d." and not references.entry("hinton").url
    for key in ("nielsen", "trask", "lecun", "wu", "crossvalidated", "hinton", "gimp"):  # the lecture's
        assert references.entry(key).key == key
    with pytest.raises(InputError, match="no reference 'nielsn'; the references are nielsen"):
        references.entry("nielsn")


def test_a_work_cited_as_text_is_found_by_its_address():
    from symnn.course import references
    from symnn.derive.topics import references as cited

    assert references.find(cited.NIELSEN).key == "nielsen"
    assert references.find(cited.PYTORCH_POOL).key == "pytorch-maxpool"
    assert references.find(cited.CROSSVALIDATED).key == "crossvalidated"
    assert references.find("Someone (2020). A book. https://example.org/book") is None


def test_the_bibliography_lists_each_cited_work_once_by_author():
    from symnn.course import references

    tex = references.bibliography_latex(["wu", "nielsen", "wu", "lecun"])
    assert tex.count(r"\bibitem") == 3 and r"\begin{thebibliography}" in tex and "{References}" in tex
    assert tex.index("{lecun}") < tex.index("{nielsen}") < tex.index("{wu}")
    assert references.bibliography_latex([]) == ""
    md = references.bibliography_markdown(["wu", "nielsen"])
    assert md.startswith("## References\n\n- Nielsen, M. (2015)") and md.count("\n- ") == 2


def _lesson(number=3, reading=("nielsen", "trask")):
    from symnn.course import Lesson

    return Lesson(number, "A lesson", reading=list(reading))


def test_a_lesson_cites_its_readings(capsys):
    lesson = _lesson(reading=["nielsen", "trask", "Someone (2020). A book of one's own."])
    assert lesson.cited() == ["nielsen", "trask"]
    assert lesson.reading[0].startswith("Nielsen, M. (2015)") and lesson.reading[2].startswith("Someone")
    tex = lesson.to_latex()
    assert r"Nielsen (2015), \emph{Neural Networks and Deep Learning}~\cite{nielsen}" in tex
    assert r"\cite{trask}" in tex and "Someone (2020). A book of one's own." in tex
    md = lesson.to_markdown()
    assert "- Nielsen, M. (2015). *Neural Networks and Deep Learning*." in md and r"\cite" not in md
    with pytest.raises(InputError, match="no reference 'nielsn'"):
        _lesson(reading=["nielsn"])


def test_a_derivations_reference_is_cited_once_with_what_it_adds():
    import symnn

    lesson = _lesson(number=10, reading=["wu"])
    lesson.derivation(symnn.derive("maxpool"))  # cites LeCun et al. and PyTorch's MaxPool2d
    assert lesson.cited() == ["wu", "lecun", "pytorch-maxpool"]
    tex = lesson.to_latex()
    assert r"LeCun et al. (1998), \emph{Gradient-Based Learning Applied to Document Recognition}~\cite{lecun}" in tex
    assert r"(max\_pool2d\_with\_indices)" in tex and r"\cite{pytorch-maxpool}" in tex


def test_mentions_of_tables_figures_and_lessons_link_in_latex_only():
    from symnn.course import prose

    tex = prose.inline_latex("Table 3.1 and Figure 8.2, as in lesson 5; Figure 3 and 2.5 stay text.")
    assert r"\hyperref[tab:3.1]{Table~\ref*{tab:3.1}}" in tex and r"\else Table~3.1\fi" in tex
    assert r"[fig:8.2]" in tex and r"\hyperref[lesson:5]{lesson~\ref*{lesson:5}}" in tex
    assert "Figure 3 and 2.5 stay text." in tex
    assert r"\ref" not in prose.inline_latex("Table 3.1", refs=False)
    assert prose.label_of("Figure 14.2") == "fig:14.2" and prose.label_of("Lesson 7") == "lesson:7"


def test_tables_and_figures_carry_the_label_the_prose_refers_to():
    lesson = _lesson()
    label = lesson.table(["a", "b"], [[1, 2]], caption="Numbers.")
    lesson.markdown(f"{label} shows them.")
    tex = lesson.to_latex()
    assert r"\caption{Numbers.}\label{tab:3.1}" in tex and r"\hyperref[tab:3.1]" in tex
    assert "Table 3.1 shows them." in lesson.to_markdown()


def test_a_derivations_notes_link_the_equations_they_name():
    import symnn
    from symnn.course.blocks import DerivationBlock

    d = symnn.derive("cost-functions")
    tex = DerivationBlock(d, d.title, "2.1").latex()
    assert r"\tag{8}\label{eq:2.1:8}" in tex and r"\hyperref[eq:2.1:8]{(8)}" in tex
    assert r"\label" not in d.latex(standalone=True)  # one pdflatex pass: no label to miss


@pytest.mark.latex
def test_links_resolve_and_a_missing_label_prints_its_text(tmp_path):
    """Two pdflatex passes with hyperref: a mention of a table links to it; a mention of a lesson
    not in the document prints as written, never '??', and no reference is undefined."""
    import subprocess

    from conftest import pdflatex_or_skip

    from symnn.course import prose

    pdflatex = pdflatex_or_skip()
    body = prose.inline_latex("See Table 1.1 and lesson 9.")
    (tmp_path / "r.tex").write_text(
        "\\documentclass{book}\\usepackage{booktabs}\\usepackage{hyperref}\\begin{document}\n"
        "\\chapter{One}\\begin{table}\\caption{T.}\\label{tab:1.1}\\end{table}\n"
        f"{body}\n\\end{{document}}\n"
    )
    for _ in range(2):
        subprocess.run([pdflatex, "-interaction=nonstopmode", "r.tex"], cwd=tmp_path, capture_output=True, timeout=120)
    log = (tmp_path / "r.log").read_text(errors="replace")
    assert "Output written" in log and "undefined" not in log


# ---- figures at print size and resolution -------------------------------------------------------


def _small_figure(title="a title far too long for its narrow axes", layout="constrained"):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 3), layout=layout)
    axes = fig.subplots(1, 4)
    for ax in axes:
        ax.plot([0, 1], [0, 1], label="a line")
        ax.set_xlabel("x", fontsize=7)
        ax.legend(fontsize=6)
    axes[0].set_title(title, fontsize=8)
    for c in range(5):
        axes[1].text(c, 0.5, f"{c / 7:.4f}", fontsize=7, ha="center")
    axes[1].set_xlim(-0.5, 4.5)
    return fig, axes


def test_a_figure_is_made_the_size_it_prints_at_with_text_as_large_as_the_caption():
    from matplotlib.text import Text

    from symnn.course import plots

    fig, axes = _small_figure()
    smallest = plots.fit_for_print(fig, 0.95)
    assert fig.get_size_inches()[0] == pytest.approx(0.95 * plots.TEXT_WIDTH_IN)
    assert fig.get_size_inches()[1] == pytest.approx(3 * 0.95 * plots.TEXT_WIDTH_IN / 10)
    assert "\n" in axes[0].get_title()  # broken onto lines, not cut off
    texts = [t for t in fig.findobj(Text) if t.get_text().strip() and t not in axes[1].texts]
    assert texts and min(t.get_fontsize() for t in texts) >= plots.CAPTION_PT
    # five 6-character numbers in a quarter of the page: at 11 pt they would run into each other
    cells = axes[1].texts
    assert smallest == min(t.get_fontsize() for t in cells) < plots.CAPTION_PT
    renderer = fig._get_renderer()
    boxes = [t.get_window_extent(renderer) for t in cells]
    assert not any(a.overlaps(b) for n, a in enumerate(boxes) for b in boxes[n + 1 :])
    fig, _ = _small_figure(title="short", layout=None)  # no layout engine: it gets one
    plots.fit_for_print(fig, 0.5)
    assert fig.get_layout_engine() is not None


def test_a_lesson_figure_is_saved_at_print_resolution(tmp_path, monkeypatch, capsys):
    from PIL import Image

    from symnn.course import Lesson

    monkeypatch.setenv("SYMNN_LESSON_OUT", str(tmp_path))
    lesson = Lesson(4, "Figures")
    fig, _ = _small_figure()
    lesson.figure(fig, "four", "Four panels.", width=0.8)
    image = Image.open(tmp_path / "04_four.png")
    dpi = image.info["dpi"][0]
    assert dpi >= 200 and image.size[0] == pytest.approx(0.8 * 489.1 / 72.27 * dpi, abs=2)
    assert image.text["symnn print width"] == "0.8" and image.text["symnn smallest text"].endswith(" pt")
    with pytest.raises(InputError, match="a figure's width is a part of the text width, 0.1 to 1"):
        lesson.figure(_small_figure()[0], "wide", "Too wide.", width=1.5)


def test_the_books_figures_print_at_200_dpi_with_text_no_smaller_than_the_caption(course_build):
    """The session build's figures: each PNG is at least 200 dpi at the width course.tex prints
    it, and its smallest text is the caption's size."""
    import re

    from PIL import Image

    from symnn.course.plots import CAPTION_PT, TEXT_WIDTH_IN

    out = course_build.out
    tex = (out / "course.tex").read_text(encoding="utf-8")
    printed = dict(
        (f, float(w)) for w, f in re.findall(r"\\includegraphics\[width=([\d.]+)\\linewidth\]\{([^}]+)\}", tex)
    )
    assert printed, "course.tex includes no figure"
    small = []
    for href, width in printed.items():
        image = Image.open(out / href)
        dpi = image.size[0] / (width * TEXT_WIDTH_IN)
        text_pt = float(image.text["symnn smallest text"].split()[0])
        if dpi < 200 or text_pt < CAPTION_PT - 0.01:
            small.append(f"{href}: {dpi:.0f} dpi, smallest text {text_pt:g} pt")
    assert not small, "\n".join(small)


def test_a_derivation_note_that_cannot_be_typeset_names_its_lesson_and_character():
    import dataclasses

    import symnn

    lesson = _lesson(number=7, reading=[])
    d = symnn.derive("neuron")
    step = dataclasses.replace(d.steps[-1], note="a snowman ☃")
    lesson.derivation(dataclasses.replace(d, steps=[*d.steps[:-1], step]))
    with pytest.raises(InputError, match=r"^lesson 7: cannot typeset the character '☃' \(U\+2603 SNOWMAN\)"):
        lesson.to_latex()
