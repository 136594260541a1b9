"""`symnn course build` options: --formats, --lessons-dir, --title, and `symnn course new`, on an
author's own one-lesson course (the template), which builds in a few seconds."""

from __future__ import annotations

import pytest
from conftest import pdflatex_or_skip

from symnn.cli import main
from symnn.course import book
from symnn.course.formats import ALL, choose
from symnn.errors import InputError


def test_formats_default_is_everything_the_machine_can_make():
    assert choose(None, None, "/usr/bin/pdflatex") == (list(ALL), [])
    chosen, _ = choose(None, None, None)
    assert "pdf" not in chosen and "tex" in chosen
    assert choose(None, False, "/usr/bin/pdflatex")[0] == [f for f in ALL if f != "pdf"]


def test_formats_list_is_ordered_deduplicated_and_checked():
    assert choose(" PDF ,tex,tex", None, None)[0] == ["tex", "pdf"]
    assert choose("all", None, None)[0] == list(ALL)
    assert choose("markdown", True, None)[0] == ["pdf", "markdown"]
    with pytest.raises(InputError, match=r"unknown format 'epub' in --formats; the formats are tex,pdf,markdown"):
        choose("tex,epub", None, None)
    with pytest.raises(InputError, match="unknown format ''"):
        choose("", None, None)
    with pytest.raises(InputError, match="--no-pdf contradicts --formats pdf"):
        choose("pdf", False, None)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """`symnn course new`, then a build of it with its own title (the PDF too when pdflatex is here)."""
    base = tmp_path_factory.mktemp("mine")
    assert main(["course", "new", str(base / "mycourse")]) == 0
    return base / "mycourse"


def test_course_new_writes_a_lesson_that_builds_with_its_title(course, capsys):
    pdflatex_or_skip()
    out = course / "build"
    assert (
        main(
            [
                "course",
                "build",
                "--lessons-dir",
                str(course),
                "--out",
                str(out),
                "--title",
                "My  own\tcourse",
                "--formats",
                "tex,pdf,markdown",
                "-q",
            ]
        )
        == 0
    )
    said = capsys.readouterr().out
    assert "built 1 lesson in" in said and "PDF, " in said and "1 PNG figure" in said
    tex = (out / "course.tex").read_text()
    assert r"\title{My own course}" in tex and r"\chapter{My first lesson}" in tex
    assert "Worked solutions" in tex  # the template's exercise is solved and checked
    md = (out / "01_first_lesson.md").read_text()
    assert "# Lesson 1: My first lesson" in md and "figures/01_cost.png" in md
    assert (out / "figures" / "01_cost.png").stat().st_size > 1000


def test_formats_write_only_what_was_asked_and_remove_the_rest(course, capsys):
    out = course / "only"
    assert (
        main(["course", "build", "--lessons-dir", str(course), "--out", str(out), "--formats", "markdown", "-q"]) == 0
    )
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "01_first_lesson.md",
        "figures",
        "references.md",
        "solutions.md",
    ]
    assert "Nielsen, M. (2015)" in (out / "references.md").read_text()  # the template cites Nielsen
    assert main(["course", "build", "--lessons-dir", str(course), "--out", str(out), "--formats", "tex", "-q"]) == 0
    assert (out / "course.tex").exists() and not (out / "01_first_lesson.md").exists()
    assert "removed 3 files of an earlier build" in capsys.readouterr().out


def test_course_new_never_replaces_files(course, tmp_path, capsys):
    assert main(["course", "new", str(course)]) == 2
    assert "is not empty" in capsys.readouterr().err
    (tmp_path / "f").write_text("mine")
    assert main(["course", "new", str(tmp_path / "f")]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    assert (tmp_path / "f").read_text() == "mine"


def test_an_authors_lesson_error_names_the_file_and_line(tmp_path, capsys):
    (tmp_path / "03_broken.py").write_text(
        "from symnn.course import Lesson\nlesson = Lesson(3, 'T')\n\nundefined_name\n"
    )
    assert main(["course", "build", "--lessons-dir", str(tmp_path), "--out", str(tmp_path / "o"), "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"symnn: error: lesson {tmp_path / '03_broken.py'} failed at line 4: "
        "NameError: name 'undefined_name' is not defined"
    )
    assert main(["course", "list", "--lessons-dir", str(tmp_path)]) == 0
    assert "03_broken.py" in capsys.readouterr().out


@pytest.mark.parametrize("title", ["", "   ", "x" * 201])
def test_bad_title_is_one_line(title, tmp_path, capsys):
    assert main(["course", "build", "--lessons", "7", "--out", str(tmp_path), "--title", title]) == 2
    assert capsys.readouterr().err.strip() == "symnn: error: --title is one line of 1 to 200 characters"


def test_lessons_dir_that_is_missing(tmp_path, capsys):
    assert main(["course", "build", "--lessons-dir", str(tmp_path / "nope"), "--out", str(tmp_path / "o")]) == 2
    assert "is not a folder; give the folder of your NN_name.py lesson files" in capsys.readouterr().err
    assert book.available_lessons(tmp_path) == []
    assert main(["course", "build", "--lessons-dir", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert "there are no lessons to build in" in capsys.readouterr().err
