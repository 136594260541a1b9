"""The course's exercises: declared in the lessons, graded by `symnn check --exercise`, solved by symnn."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from symnn.cli import main
from symnn.course import Lesson
from symnn.course.exercises import all_exercises, exercise_calls, find, solutions_latex
from symnn.errors import InputError, UnknownNameError

EXERCISES = all_exercises()


def test_every_lesson_the_issue_names_has_two_exercises():
    per_lesson = Counter(int(ex.id.split(".")[0]) for ex in EXERCISES)
    for lesson in (2, 4, 5, 8, 9, 10, 12, 14):
        assert per_lesson[lesson] >= 2, lesson


@pytest.mark.parametrize("ex", EXERCISES, ids=[ex.id for ex in EXERCISES])
def test_symnns_worked_solution_passes_its_own_grader(ex, tmp_path, capsys):
    answer = tmp_path / "answer.txt"
    answer.write_text("\n".join(ex.solution()) + "\n", encoding="utf-8")
    assert main(["check", "--exercise", ex.id, str(answer), "--format", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["ok"] and result["goal_reached"]


def test_a_wrong_or_unfinished_answer_is_graded_as_such(tmp_path, capsys):
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("dC/db = yhat - y\n")
    assert main(["check", "--exercise", "2.1", str(wrong), "--format", "json"]) == 1
    result = json.loads(capsys.readouterr().out)
    assert result["first_error"] == 1 and result["misconception"] == "missing-activation-derivative"
    unfinished = tmp_path / "unfinished.txt"
    unfinished.write_text("dC/dyhat = yhat - y\n")
    assert main(["check", "--exercise", "2.1", str(unfinished)]) == 1
    assert "goal dC/db: not reached" in capsys.readouterr().out


def test_unknown_exercise_and_the_list(tmp_path, capsys):
    f = tmp_path / "a.txt"
    f.write_text("dC/db = 0\n")
    assert main(["check", "--exercise", "99.9", str(f)]) == 2
    assert "2.1" in capsys.readouterr().err
    with pytest.raises(UnknownNameError):
        find("0.1")
    assert main(["check", "--list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in listed] == [ex.id for ex in EXERCISES]


def test_exercises_are_read_without_running_the_lesson():
    source = (
        'import os\nos.remove("x")\nlesson.exercise("p", "dC/db", "given C = b^2")\n'
        'lesson.exercise(prompt="q", goal="dC/db", givens="given C = b")\n'
    )
    assert exercise_calls(source, "t.py") == [("p", "dC/db", "given C = b^2"), ("q", "dC/db", "given C = b")]
    shared = 'SETUP = "given C = b^3"\nlesson.exercise("p", "dC/db", SETUP)\n'
    assert exercise_calls(shared, "t.py") == [("p", "dC/db", "given C = b^3")]
    with pytest.raises(InputError, match="t.py, line 1: lesson.exercise"):
        exercise_calls('lesson.exercise("p", goal, "given C = b")', "t.py")


def test_lesson_exercise_validates_its_setup(capsys):
    lesson = Lesson(9, "t")
    assert lesson.exercise("Find it.", "dC/db", "given C = b^2") == "9.1"
    assert "Exercise 9.1. Find it." in capsys.readouterr().out
    with pytest.raises(InputError, match="only `given"):
        lesson.exercise("p", "dC/db", "C = b")
    with pytest.raises(InputError, match="is a derivative"):
        lesson.exercise("p", "C", "given C = b")
    with pytest.raises(InputError, match="ASCII"):
        lesson.exercise("p", "dC/db", "given C = ŷ")
    assert r"\section*{Exercises}" in lesson.to_latex() and "## Exercises" in lesson.to_markdown()


def test_the_appendix_typesets_every_solution():
    tex = solutions_latex(list(EXERCISES[:3]))
    assert tex.count(r"\begin{align*}") == 3 and r"\frac{\partial C}{\partial b}" in tex
