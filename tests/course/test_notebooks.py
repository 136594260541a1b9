"""The course's notebooks (notebooks/NN_name.ipynb): written from what the build computed, with
rich outputs (PNG figures, LaTeX + Markdown derivations, HTML tables), valid nbformat 4.5, the
same bytes on every write; and executed in a real Jupyter kernel (nbclient + ipykernel), every
lesson shows the same rich outputs: a notebook the build wrote comes back with exactly its outputs.

The slow part (every lesson's notebook executed by two kernels, each running its notebooks in turn)
starts in the background when the module's fixture runs, while four lessons run in-process as the
build runs them."""

from __future__ import annotations

import base64
import os
import queue
import re
import threading
import types
from concurrent.futures import Future
from pathlib import Path

import pytest

from symnn.course import book
from symnn.course.blocks import DerivationBlock, Figure, Table
from symnn.course.notebooks import cell_sources, dumps, notebook, write_notebooks
from symnn.errors import FileError


def _need(module: str):
    """Import a test dependency (the `test` extra); in CI (env CI set) its absence fails, never skips."""
    if os.environ.get("CI"):
        return __import__(module)
    return pytest.importorskip(module)


BUILT = (5, 8, 10, 14)  # backprop's derivation, feature maps and step tables, pooling figures, softmax
LESSONS = book.available_lessons()
BY_NUMBER = {lf.number: lf for lf in LESSONS}
RICH = {"lesson.figure(": "image/png", "lesson.derivation(": "text/latex", "lesson.table(": "text/html"}


def _kinds(output) -> set[str]:
    return set(output.get("data", {}))


def _blank(lf) -> dict:
    """The notebook of a lesson the build did not run here: its cells, no outputs (a stand-in Lesson)."""
    stand_in = types.SimpleNamespace(
        number=lf.number, title=lf.title, blocks=[], exercises=[], exercise_places=[], reading=[]
    )
    return notebook(lf, stand_in, "test")


KERNELS = 2  # one per core; each executes its notebooks in turn, its namespace reset in between


def _kernel_worker(jobs: queue.Queue) -> None:
    """One Jupyter kernel executing the notebooks of `jobs` one after the other, each from its own
    folder and with a fresh namespace (%reset -f): starting a kernel and importing symnn costs about
    2.5 s of CPU, paid once per worker instead of once per notebook. A kernel that dies is replaced."""
    import asyncio

    asyncio.run(_serve(jobs))


async def _serve(jobs: queue.Queue) -> None:
    import asyncio

    import nbclient
    import nbformat
    from jupyter_client.manager import AsyncKernelManager

    km = None
    try:
        while True:
            job = await asyncio.get_running_loop().run_in_executor(None, jobs.get)
            if job is None:
                return
            nb, folder, result = job
            try:
                if km is None or not await km.is_alive():
                    km = AsyncKernelManager(kernel_name="python3")
                    await km.start_kernel(cwd=str(folder))
                reset = nbformat.v4.new_notebook(
                    cells=[nbformat.v4.new_code_cell(f"__import__('os').chdir({str(folder)!r})\n%reset -f")]
                )
                await nbclient.NotebookClient(reset, km=km, timeout=60).async_execute()
                node = nbformat.reads(dumps(nb), as_version=4)
                await nbclient.NotebookClient(node, km=km, timeout=600).async_execute()
                result.set_result(node)
            except BaseException as exc:  # the test that reads this notebook fails with it
                result.set_exception(exc)
    finally:
        if km is not None and await km.is_alive():
            await km.shutdown_kernel(now=True)


@pytest.fixture(scope="module")
def built(tmp_path_factory, four_lessons):
    """Four lessons run as the build runs them, their notebooks written; every lesson's notebook
    executed in a kernel (in the background, two at a time) from its folder, with the figures the
    kernels save going to a scratch folder."""
    _need("nbformat"), _need("nbclient"), _need("ipykernel")
    base = tmp_path_factory.mktemp("notebooks")
    os.environ["SYMNN_LESSON_OUT"] = str(base / "kernel_figures")  # the kernels inherit it
    jobs: queue.Queue = queue.Queue()
    workers = [threading.Thread(target=_kernel_worker, args=(jobs,), daemon=True) for _ in range(KERNELS)]
    runs: dict[int, Future] = {}

    def submit(number: int, nb: dict, folder: Path) -> None:
        runs[number] = Future()
        jobs.put((nb, folder, runs[number]))

    blank_folder = base / "blank"
    blank_folder.mkdir()
    for lf in LESSONS:  # the lessons not run here first: they need nothing from the build
        if lf.number not in BUILT:
            submit(lf.number, _blank(lf), blank_folder)
    for w in workers:
        w.start()
    try:
        out, pairs = four_lessons  # conftest: lessons 5, 8, 10 and 14, run once per session
        assert tuple(lf.number for lf, _ in pairs) == BUILT
        paths = write_notebooks(pairs, out, force=False, title="A test course")
        for n, path in zip(BUILT, paths):
            submit(n, _read(path), path.parent)
        yield out, pairs, paths, runs
    finally:
        for _ in workers:
            jobs.put(None)
        for w in workers:
            w.join(timeout=900)
        os.environ.pop("SYMNN_LESSON_OUT", None)


def _read(path: Path):
    import nbformat

    return nbformat.read(path, as_version=4)


# ---- written by the build ---------------------------------------------------------------------


def test_one_valid_notebook_per_lesson(built):
    import nbformat

    out, pairs, paths, _ = built
    assert [p.name for p in paths] == [f"{lf.stem}.ipynb" for lf, _ in pairs]
    assert all(p.parent == out / "notebooks" for p in paths)
    for path in paths:
        text = path.read_text(encoding="utf-8")
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
        assert (nb.nbformat, nb.nbformat_minor) == (4, 5)
        assert nb.metadata.kernelspec.name == "python3" and nb.metadata.language_info.name == "python"
        assert text == nbformat.writes(nb) + "\n"  # as nbformat (and so Jupyter on save) writes it
        ids = [c.id for c in nb.cells]
        assert len(set(ids)) == len(ids) and all(i.startswith(f"lesson{path.name[:2]}-") for i in ids)


def test_cells_in_file_order(built):
    _, pairs, paths, _ = built
    for (lf, _), path in zip(pairs, paths):
        nb = _read(path)
        source = lf.path.read_text(encoding="utf-8")
        from symnn.course.lesson import parse_cells

        expected = [(c.kind, s) for c, s in zip(parse_cells(source), cell_sources(source)) if s]
        title, *cells, reading = nb.cells
        assert title.source.startswith(f"# Lesson {lf.number}: ")
        assert reading.source.startswith("## Additional reading")
        assert [(c.cell_type, c.source) for c in cells] == expected
        counts = [c.execution_count for c in cells if c.cell_type == "code"]
        assert counts == list(range(1, len(counts) + 1))


def test_outputs_are_the_blocks_of_each_cell(built):
    """Every block lands in the cell that made it, in order: figures as the PNG the build saved,
    derivations as LaTeX + Markdown, tables as HTML + Markdown."""
    _, pairs, paths, _ = built
    for (lf, lesson), path in zip(pairs, paths):
        nb = _read(path)
        by_id = {c.id: c for c in nb.cells}
        for cell_index in sorted({b.cell for b in lesson.blocks}):
            cell = by_id[f"lesson{lf.number:02d}-{cell_index:03d}"]
            assert cell.cell_type == "code"
            outs = iter(cell.outputs)
            for block in (b for b in lesson.blocks if b.cell == cell_index):
                o = next(outs)
                assert o.output_type == "display_data" and "text/plain" in o.data
                if isinstance(block, Figure):
                    assert base64.b64decode(o.data["image/png"]) == block.path.read_bytes()
                    caption = next(outs)
                    assert caption.data["text/markdown"].startswith(f"*{block.label}: ")
                elif isinstance(block, DerivationBlock):
                    assert _kinds(o) == {"text/latex", "text/markdown", "text/plain"}
                    assert o.data["text/markdown"].startswith(f"## {block.title}")
                    assert "\\begin{" in o.data["text/latex"]
                elif isinstance(block, Table):
                    assert _kinds(o) == {"text/html", "text/markdown", "text/plain"}
                    assert o.data["text/html"].startswith("<table>") and block.label in o.data["text/html"]
                else:
                    assert "text/markdown" in o.data
        kinds = [k for c in nb.cells for o in c.get("outputs", []) for k in _kinds(o)]
        figures = [b for b in lesson.blocks if isinstance(b, Figure)]
        assert kinds.count("image/png") == len(figures)
        assert kinds.count("text/html") == sum(isinstance(b, Table) for b in lesson.blocks)
        assert kinds.count("text/latex") >= sum(isinstance(b, DerivationBlock) for b in lesson.blocks)
        exercises = "".join(
            o.data["text/markdown"] for c in nb.cells for o in c.get("outputs", []) if "text/markdown" in o.data
        )
        assert all(f"**Exercise {ex.id}.**" in exercises for ex in lesson.exercises)
    numbers = [lesson.number for _, lesson in pairs]
    assert any(isinstance(b, Figure) for _, lesson in pairs for b in lesson.blocks)
    assert any(isinstance(b, DerivationBlock) for _, lesson in pairs for b in lesson.blocks), numbers


def test_two_writes_give_the_same_bytes(built, tmp_path):
    out, pairs, paths, _ = built
    first = {p.name: p.read_bytes() for p in paths}
    again = write_notebooks(pairs, out, force=False, title="A test course")  # over its own files
    elsewhere = write_notebooks(pairs, tmp_path, force=False, title="A test course")
    for p in again + elsewhere:
        assert p.read_bytes() == first[p.name], p


def test_navigation_between_notebooks(built):
    _, pairs, paths, _ = built
    heads = [_read(p).cells[0].source for p in paths]
    assert "*A test course*" in heads[0] and "Previous:" not in heads[0]
    assert f"Next: [Lesson {pairs[1][1].number}: {pairs[1][1].title}]({pairs[1][0].stem}.ipynb)" in heads[0]
    assert "Previous:" in heads[-1] and "Next:" not in heads[-1]


def test_a_file_in_the_way_is_refused(built, tmp_path):
    _, pairs, _, _ = built
    (tmp_path / "notebooks").write_text("mine")
    with pytest.raises(FileError, match="not a folder"):
        write_notebooks(pairs[:1], tmp_path)
    other = tmp_path / "other"
    (other / "notebooks").mkdir(parents=True)
    mine = other / "notebooks" / f"{pairs[0][0].stem}.ipynb"
    mine.write_text("a person's notebook")
    with pytest.raises(FileError):
        write_notebooks(pairs[:1], other)
    assert mine.read_text() == "a person's notebook"


# ---- executed in a kernel ------------------------------------------------------------------


@pytest.mark.parametrize("number", BUILT)
def test_executed_notebook_reproduces_its_outputs(built, number):
    """Run All in a kernel gives back exactly the outputs the build wrote: the same PNG bytes, the
    same LaTeX, Markdown and HTML, and nothing else (no 'Figure 8.1' results, no printed text)."""
    out, _, _, runs = built
    written = _read(out / "notebooks" / f"{BY_NUMBER[number].stem}.ipynb")
    executed = runs[number].result()
    assert len(executed.cells) == len(written.cells)
    for w, e in zip(written.cells, executed.cells):
        if w.cell_type == "code":
            assert [(o.output_type, o.data, o.metadata) for o in e.outputs] == [
                (o.output_type, o.data, o.metadata) for o in w.outputs
            ], w.id


@pytest.mark.parametrize("lf", [lf for lf in LESSONS if lf.number not in BUILT], ids=lambda lf: lf.stem)
def test_every_lesson_runs_in_a_kernel_with_rich_outputs(built, lf):
    """Each cell that makes a figure shows it as PNG, a derivation as LaTeX and Markdown, a table as
    HTML; a lesson prints nothing in a kernel and leaves no plain label as a cell's result."""
    executed = built[3][lf.number].result()
    seen = set()
    for cell in executed.cells:
        if cell.cell_type != "code":
            continue
        kinds = set().union(*(_kinds(o) for o in cell.outputs))
        assert all(o.output_type == "display_data" for o in cell.outputs), [o.output_type for o in cell.outputs]
        for call, kind in RICH.items():
            if re.search(r"^(?![\s#]).*" + re.escape(call), cell.source, re.M):  # a call at the top level
                assert kind in kinds, (cell.source[:200], kinds)
                seen.add(kind)
        if "text/latex" in kinds:
            assert "text/markdown" in kinds
    calls = lf.path.read_text(encoding="utf-8")
    assert seen == {kind for call, kind in RICH.items() if call in calls}


# ---- the rich display, without a kernel -----------------------------------------------------


def test_labels_and_step_tables_have_short_reprs():
    from symnn.course.lesson import Label
    from symnn.vision import step_tables

    label = Label("Figure 3.1")
    assert label == "Figure 3.1" and f"see {label}" == "see Figure 3.1" and isinstance(label, str)
    label._ipython_display_()  # displays nothing: the figure was shown when it was made
    table = step_tables.steps()
    assert repr(table).startswith("<StepTable: image 7x7") and len(repr(table)) < 200
    assert "1 cell differs from the slide" in repr(table)
    html = table._repr_html_()
    assert html.count("<tr>") > 25 and "the slide shows 1" in html
    assert table._repr_markdown_().startswith("## Step 1")


def test_jupytext_reads_the_lessons_as_the_notebooks_do():
    """Each lesson round-trips through Jupytext's percent format unchanged, and Jupytext's cells are
    the notebook's cells."""
    jupytext = _need("jupytext")
    from symnn.course.lesson import parse_cells

    for lf in LESSONS:
        text = lf.path.read_text(encoding="utf-8")
        nb = jupytext.reads(text, fmt="py:percent")
        assert jupytext.writes(nb, fmt="py:percent") == text, lf.stem
        ours = [(c.kind, s) for c, s in zip(parse_cells(text), cell_sources(text)) if s]
        assert [(c.cell_type, c.source) for c in nb.cells] == ours, lf.stem
