"""The web book (symnn.course.html): a static site in html/ that works offline.

The quick tests build a small course of hostile lessons and read its pages with html.parser: the
markup nests, every link and image resolves, lesson text is escaped, no TeX is left, a formula
that cannot be converted fails in one line. The browser test builds the whole course and loads
every page in headless Chromium (Debian's chromium and chromium-driver; CI installs them and
fails without them): no console error, no TeX in the visible text, every image loaded, MathML laid
out, each derivation step a <details> that opens, the navigation leads through every page; a
screenshot of each page is saved in the build folder (screenshots/, beside html/) for review."""

from __future__ import annotations

import base64
import contextlib
import functools
import http.server
import os
import re
import shutil
import tempfile
import textwrap
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from symnn.course import book
from symnn.course.html import raw_tex, render_site, visible_text, write_html
from symnn.errors import InputError, SymnnError
from symnn.render.mathml import MathMLError, latex_mathml

HOSTILE = "<script>alert('x')</script>"

LESSON_A = '''
# %% [markdown]
# An opening paragraph with **bold**, *emphasis*, `code <b>`, a [link](https://example.org/?a=1&b=2)
# and math $\\frac{\\partial C}{\\partial w_1} = \\hat{y} - y$. The lecture's reading (CrossValidated,
# 2015) lists others: this line stays a sentence. <script>alert('x')</script> & "quotes".
#
# ## A section with $\\sigma(z)$
#
# - one item with $\\sum_{i=1}^{n} x_i$
# - two items,
#   continued
#
# 1. first
# 2. second
#
# $$\\begin{aligned} a &= b + c \\\\ &= d \\end{aligned}$$

# %%
import sympy as sp
from matplotlib.figure import Figure

import symnn
from symnn.course import Lesson

lesson = Lesson(1, "Hostile <script>alert('x')</script> & co", reading=["nielsen", "A <b>book</b> https://example.org/x"])
lesson.derivation(symnn.derive("activation", activation="relu"))
lesson.derivation(symnn.derive("activation", activation="relu"))  # the same title twice: ids stay unique
lesson.markdown("## Exercises\\n\\nA heading that the exercises' own heading must not collide with.")
lesson.math(r"\\begin{cases} 1 & z > 0 \\\\ 0 & \\text{otherwise <i>} \\end{cases}")
z = sp.Symbol("z")
lesson.table(["name <td>", r"$\\varphi(z)$", "value"], [["<b>x</b>", sp.Piecewise((z, z > 0), (0, True)), 0.5]],
             caption=r"A caption with $\\hat{y}$ and <em>tags</em>.")
fig = Figure(figsize=(3, 2))
fig.add_subplot().plot([0, 1], [1, 0])
lesson.figure(fig, "line", caption='A figure "captioned" <img src=x onerror=alert(1)>.')
lesson.code("print('</pre><script>alert(1)</script>')")
lesson.note(r"A note with $\\delta$ and <script>alert('x')</script>.")
lesson.exercise("Find the slope <b>now</b>.", "dC/db", "given C = (yhat - y)^2/2\\ngiven yhat = w x + b")
'''

LESSON_B = """
import symnn
from symnn.course import Lesson

lesson = Lesson(2, "A second lesson")
lesson.markdown("Just $x^2$ and the [first lesson](01_hostile.html).")
lesson.derivation(symnn.derive("neuron"))
"""


def _course(folder: Path, **lessons: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, source in lessons.items():
        (folder / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    return folder


def _build(out: Path, folder: Path | None = None, lessons: str | None = None) -> tuple[list, list[Path]]:
    """Build the course (no PDF) and its web book; return the (LessonFile, Lesson) pairs and the
    files write_html wrote."""
    result = book.build(out, lessons=lessons, folder=folder, formats="tex", progress=False)  # the web book below
    chosen = book.select(lessons, book.available_lessons(folder))
    pairs = list(zip(chosen, result.lessons))
    return pairs, write_html(pairs, out)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile")
    folder = _course(base / "lessons", **{"01_hostile": LESSON_A, "02_second": LESSON_B})
    pairs, written = _build(base / "out", folder)
    return base / "out", pairs, written


# ---- reading a page with html.parser ------------------------------------------------------------

VOID = {"meta", "link", "img", "br", "hr", "input", "source", "wbr"}
BLOCK = {"div", "p", "ul", "ol", "pre", "figure", "table", "details", "aside", "section", "h1", "h2", "h3", "h4"}


class Page(HTMLParser):
    """A page's structure: its elements nest (each closed in order), a <p> holds no block, and
    its ids, links, images and MathML are collected."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.ids: list[str] = []
        self.links: list[str] = []
        self.images: list[str] = []
        self.tags: dict[str, int] = {}
        self.feed(text)
        self.close()
        if self.stack:
            self.problems.append(f"left open: {self.stack}")

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags[tag] = self.tags.get(tag, 0) + 1
        if tag in BLOCK and "p" in self.stack:
            self.problems.append(f"<{tag}> inside <p>")
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "a" and "href" in a:
            self.links.append(a["href"])
        if tag == "img":
            self.images.append(a.get("src", ""))
        for k, v in a.items():
            if k.startswith("on") or (v and re.match(r"\s*javascript:", v, re.I)):
                self.problems.append(f"<{tag} {k}={v!r}>: script in an attribute")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            if tag in self.stack:
                while self.stack.pop() != tag:
                    pass
        else:
            self.stack.pop()


def check_site(folder: Path) -> dict[str, Page]:
    """Every page nests, has no script and no TeX, its ids are unique, and every relative link and
    image resolves (a page and, after #, an id on it)."""
    pages = {p.name: Page(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.html"))}
    assert "index.html" in pages
    for name, page in pages.items():
        assert not page.problems, (name, page.problems[:5])
        assert page.tags.get("script", 0) == 0, name
        assert len(page.ids) == len(set(page.ids)), (name, sorted(i for i in page.ids if page.ids.count(i) > 1))
        text = (folder / name).read_text(encoding="utf-8")
        assert raw_tex(text) is None, (name, raw_tex(text))
        for src in page.images:
            assert not urlsplit(src).scheme, (name, src)  # no image from the network
            assert (folder / unquote(src)).is_file(), (name, src)
        for href in page.links:
            parts = urlsplit(href)
            if parts.scheme or href.startswith("//"):
                assert parts.scheme in ("http", "https", "mailto"), (name, href)
                continue
            target = parts.path or name
            assert target in pages, (name, href)
            if parts.fragment:
                assert parts.fragment in pages[target].ids, (name, href)
    for name in pages:  # offline: no stylesheet, script or font from elsewhere
        text = (folder / name).read_text(encoding="utf-8")
        assert not re.search(r'<(link|script|img|iframe)[^>]*(href|src)="(https?:)?//', text), name
    return pages


# ---- the hostile course: structure, escaping, links ---------------------------------------------


def test_the_site_has_an_index_a_page_per_lesson_solutions_and_figures(hostile):
    out, pairs, written = hostile
    html_dir = out / "html"
    names = sorted(p.relative_to(html_dir).as_posix() for p in written)
    assert names == [
        "01_hostile.html",
        "02_second.html",
        "figures/01_line.png",
        "index.html",
        "references.html",
        "solutions.html",
    ]
    assert (html_dir / "figures" / "01_line.png").read_bytes() == (out / "figures" / "01_line.png").read_bytes()
    pages = check_site(html_dir)
    index = (html_dir / "index.html").read_text(encoding="utf-8")
    # the contents: every lesson with its sections, and the solutions
    for href in ("01_hostile.html", "02_second.html", "solutions.html", "01_hostile.html#exercises"):
        assert f'href="{href}"' in index
    assert any(link.startswith("01_hostile.html#a-section-with") for link in pages["index.html"].links)
    assert "01_hostile.html#activation-functions-and-their-derivatives" in pages["index.html"].links  # a derivation


def test_lesson_text_is_escaped_everywhere(hostile):
    out, _, _ = hostile
    for p in (out / "html").glob("*.html"):
        text = p.read_text(encoding="utf-8")
        assert "<script" not in text and "<b>" not in text and "<i>" not in text and "<em>tags" not in text, p.name
    page = (out / "html" / "01_hostile.html").read_text(encoding="utf-8")
    assert "<h1>Lesson 1: Hostile &lt;script&gt;alert('x')&lt;/script&gt; &amp; co</h1>" in page
    assert "<title>Lesson 1: Hostile &lt;script&gt;alert('x')&lt;/script&gt; &amp; co — " in page
    assert "&lt;script&gt;alert('x')&lt;/script&gt; &amp; &quot;quotes&quot;." in page or (
        "&lt;script&gt;alert('x')&lt;/script&gt; &amp; \"quotes\"." in page
    )
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page  # a table cell
    assert "name &lt;td&gt;" in page  # a header
    assert "<mtext>otherwise\u00a0&lt;i&gt;</mtext>" in page  # \text{...} inside math
    assert "&lt;/pre&gt;&lt;script&gt;" in page  # a code block
    assert 'alt="Figure 1.1: A figure &quot;captioned&quot; &lt;img src=x onerror=alert(1)&gt;."' in page
    assert "<code>code &lt;b&gt;</code>" in page
    assert '<a href="https://example.org/?a=1&amp;b=2">link</a>' in page
    assert "A &lt;b&gt;book&lt;/b&gt; <a href=\"https://example.org/x\">" in page


def test_prose_markdown_and_math(hostile):
    out, _, _ = hostile
    page = (out / "html" / "01_hostile.html").read_text(encoding="utf-8")
    assert "<strong>bold</strong>" in page and "<em>emphasis</em>" in page
    assert "(CrossValidated, 2015) lists others" in visible_text(page)  # not a numbered list from "2015)"
    assert re.search(r"<ul>\s*<li>one item with <math", page)
    assert "<li>two items, continued</li>" in page
    assert re.search(r"<ol>\s*<li>first</li>\s*<li>second</li>\s*</ol>", page)
    assert re.search(r'<h2 id="a-section-with-[^"]*">A section with <math', page)
    assert "<mfrac>" in page and "<munderover>" in page  # \frac and a sum with limits
    assert re.search(r'<div class="display"><math display="block"><mrow><mtable', page)  # aligned
    assert 'stretchy="true" fence="true" form="prefix">{</mo><mtable' in page  # cases


def test_each_derivation_step_folds_open_to_its_justification(hostile):
    out, pairs, _ = hostile
    page = (out / "html" / "01_hostile.html").read_text(encoding="utf-8")
    relu = next(b for b in pairs[0][1].blocks if hasattr(b, "d")).d
    steps = [s for s in relu.steps if not s.is_heading]
    details = re.findall(r'<details class="step" id="[^"]+">.*?</details>', page, re.S)
    assert len(details) == 2 * len(steps)  # the derivation is shown twice
    for step, d in zip(steps + steps, details):
        summary, body = re.fullmatch(r'<details[^>]*><summary>(.*?)</summary>(.*)</details>', d, re.S).groups()
        assert "<math" in summary  # the equation
        assert step.rule in body  # its justification
    assert "Verified:" in page


def test_nav_previous_contents_next(hostile):
    out, _, _ = hostile
    pages = {p.name: Page(p.read_text(encoding="utf-8")) for p in (out / "html").glob("*.html")}

    def nav(name):
        text = (out / "html" / name).read_text(encoding="utf-8")
        top = re.search(r'<nav class="pages top".*?</nav>', text, re.S).group()
        bottom = re.search(r'<nav class="pages bottom".*?</nav>', text, re.S).group()
        assert top.replace(" top", "") == bottom.replace(" bottom", "")
        return dict(re.findall(r'<a href="([^"]+)" rel="(\w+)"', top)[i][::-1] for i in range(top.count("<a ")))

    assert nav("index.html") == {"next": "01_hostile.html"}
    assert nav("01_hostile.html") == {"contents": "index.html", "next": "02_second.html"}
    assert nav("02_second.html") == {"prev": "01_hostile.html", "contents": "index.html", "next": "solutions.html"}
    assert nav("solutions.html") == {"prev": "02_second.html", "contents": "index.html", "next": "references.html"}
    assert nav("references.html") == {"prev": "solutions.html", "contents": "index.html"}
    assert pages


def test_solutions_page_has_each_worked_solution(hostile):
    out, pairs, _ = hostile
    page = (out / "html" / "solutions.html").read_text(encoding="utf-8")
    ex = pairs[0][1].exercises[0]
    assert '<section class="solution" id="exercise-1.1">' in page
    assert "Find the slope &lt;b&gt;now&lt;/b&gt;." in page
    for line in ex.solution():
        assert line.replace("'", "&#x27;") in page or line in page
    assert '<a href="01_hostile.html#exercise-1.1">' in page
    assert '<mtable displaystyle="true">' in page


def test_two_builds_write_the_same_bytes(hostile, tmp_path):
    out, pairs, written = hostile
    first = {p: p.read_bytes() for p in written}
    again = write_html(pairs, out)
    assert again == written and {p: p.read_bytes() for p in again} == first
    pages, _ = render_site(pairs, "Neural networks, derived: the course")
    assert {n: t.encode() for n, t in pages.items()} == {p.name: b for p, b in first.items() if p.suffix == ".html"}


def test_a_partial_build_removes_the_other_pages(hostile, tmp_path):
    out, pairs, _ = hostile
    shutil.copytree(out, tmp_path / "out")
    partial = book.build(tmp_path / "out", lessons="2", folder=out.parent / "lessons", formats="html", progress=False)
    removed = [p.relative_to(tmp_path / "out" / "html") for p in partial.removed if "html" in p.parts]
    assert sorted(map(str, removed)) == ["01_hostile.html", "figures/01_line.png", "solutions.html"]
    assert sorted(p.name for p in (tmp_path / "out" / "html").glob("*.html")) == [
        "02_second.html",
        "index.html",
        "references.html",
    ]  # lesson 2 cites a work too
    mine = tmp_path / "out" / "html" / "notes.html"  # a file the user made stays
    mine.write_text("mine", encoding="utf-8")
    write_html(pairs[1:], tmp_path / "out")
    assert mine.read_text(encoding="utf-8") == "mine"


def test_a_page_symnn_did_not_write_is_not_replaced(hostile, tmp_path):
    out, pairs, _ = hostile
    (tmp_path / "html").mkdir()
    (tmp_path / "html" / "index.html").write_text("the user's own", encoding="utf-8")
    with pytest.raises(SymnnError, match="not written by symnn"):
        write_html(pairs, tmp_path)
    assert (tmp_path / "html" / "index.html").read_text(encoding="utf-8") == "the user's own"
    write_html(pairs, tmp_path, force=True)


# ---- what cannot be shown fails the build, in one line -------------------------------------------


@pytest.mark.parametrize(
    "tex, says",
    [
        (r"\foo{x}", r"\\foo is not a command"),
        (r"\frac{a}", "mfrac needs 2 parts"),
        (r"x}", "a } without its {"),
        (r"\begin{tabular}{l}a\end{tabular}", "environment 'tabular' is not supported"),
        (r"a & b", "an & outside an environment"),
        (r"a \\ b", "line break"),
        (r"\boxed{x}", "browsers do not draw"),
        (r"\begin{cases} a", "has no \\\\end"),
    ],
)
def test_a_formula_that_cannot_be_converted_fails_naming_it(tex, says):
    with pytest.raises(MathMLError, match=says) as err:
        latex_mathml(tex, where="lesson 3 (03_x.py)")
    msg = str(err.value)
    assert msg.startswith("lesson 3 (03_x.py): cannot write $") and tex[:5] in msg and "\n" not in msg


def test_mathml_escapes_text_and_reads_aligned():
    out = latex_mathml(r"\text{<script>\&}\; x < y")
    assert "<script" not in out and "<mtext>&lt;script&gt;&amp;</mtext>" in out and "<mo>&lt;</mo>" in out
    aligned = latex_mathml(r"\begin{aligned} a &= b \\ &= c \end{aligned}", display=True)
    assert aligned.count("<mtr>") == 2 and "text-align:right" in aligned and "<mi>&amp;</mi>" not in aligned
    assert "𝐱" in latex_mathml(r"\boldsymbol{x}") or "mathvariant" not in latex_mathml(r"\boldsymbol{x}")


def test_a_lesson_with_a_bad_formula_fails_the_web_book_naming_lesson_and_formula(tmp_path):
    source = 'from symnn.course import Lesson\nlesson = Lesson(1, "Bad")\nlesson.markdown("See $\\\\foo + 1$.")\n'
    folder = _course(tmp_path / "lessons", **{"01_bad": source})
    result = book.build(tmp_path / "out", folder=folder, formats="tex", progress=False)  # LaTeX accepts \foo
    pairs = list(zip(book.available_lessons(folder), result.lessons))
    with pytest.raises(InputError) as err:
        write_html(pairs, tmp_path / "out")
    assert str(err.value) == (
        "lesson 1 (01_bad.py): cannot write $\\foo + 1$ as MathML: \\foo is not a command latex2mathml knows"
    )
    assert not (tmp_path / "out" / "html").exists()  # nothing written


@pytest.mark.parametrize(
    "text, says",
    [
        ("A \\frac{1}{2} outside math.", "outside \\$...\\$ would show as raw TeX"),
        ("A [link](javascript:alert(1)).", "is not a web address"),
    ],
)
def test_tex_outside_math_and_script_links_fail(tmp_path, text, says):
    source = f"from symnn.course import Lesson\nlesson = Lesson(1, 'Bad')\nlesson.markdown({text!r})\n"
    folder = _course(tmp_path / "lessons", **{"01_bad": source})
    result = book.build(tmp_path / "out", folder=folder, formats="tex", progress=False)
    with pytest.raises(InputError, match=says):
        write_html(list(zip(book.available_lessons(folder), result.lessons)), tmp_path / "out")


# ---- the whole course in headless Chromium --------------------------------------------------------

BROWSER_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--window-size=1000,900",
]
SCREENSHOT_HEIGHT = 16000  # px; Chromium cannot capture more in one image


def chromium_or_skip() -> tuple[str, str]:
    """(chromium, chromedriver); in CI their absence is a failure, elsewhere a skip."""
    browser = next(
        (p for p in ("/usr/bin/chromium", shutil.which("chromium") or "") if p and os.access(p, os.X_OK)), None
    )
    driver = next(
        (p for p in ("/usr/bin/chromedriver", shutil.which("chromedriver") or "") if p and os.access(p, os.X_OK)), None
    )
    missing = [name for name, path in (("chromium", browser), ("chromedriver", driver)) if path is None]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("the Python package selenium")
    if missing:
        are = "is" if len(missing) == 1 else "are"
        how = "apt-get install chromium chromium-driver; pip install '.[test]'"
        why = f"{' and '.join(missing)} {are} not installed ({how})"
        if os.environ.get("CI"):
            pytest.fail(f"the browser test must run in CI, but {why}")
        pytest.skip(f"{why}; CI installs them")
    assert browser and driver
    return browser, driver


@pytest.fixture(scope="module")
def site(course_build):
    """The session's whole course build (tests/conftest.py: `symnn course build`, every format):
    its folder and the lessons, each with whether it derives something."""
    out = course_build.out
    lessons = [(lf, "lesson.derivation(" in lf.path.read_text(encoding="utf-8")) for lf in book.available_lessons()]
    return out, lessons


@pytest.fixture(scope="module")
def browser():
    chromium, chromedriver = chromium_or_skip()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    profile = tempfile.mkdtemp(prefix="symnn-chromium-")
    for flag in [*BROWSER_FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@contextlib.contextmanager
def http_server(folder: Path):
    """A static server for folder on 127.0.0.1 (a free port), for the time of the block."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass


# The text a reader sees, without code listings (which may hold a $ or a backslash on purpose).
VISIBLE = """
const body = document.body.cloneNode(true);
body.querySelectorAll('pre, code').forEach(e => e.remove());
document.documentElement.appendChild(body);  // innerText needs a rendered element
body.style.position = 'absolute'; body.style.left = '-99999px';
const text = body.innerText; body.remove(); return text;
"""
UNRENDERED_TEX = re.compile(r"\\frac|\\partial|\\begin|\\end\{|\\sum|\\hat|\\left|\$\$|\$[^$\n]+\$")

PAGE_FACTS = """
const mathml = [...document.querySelectorAll('math')];
const fracs = [...document.querySelectorAll('mfrac')];
const imgs = [...document.images];
return {
  title: document.title,
  math: mathml.length,
  mathml_elements: mathml.filter(m => m instanceof MathMLElement).length,
  math_laid_out: mathml.filter(m => m.getBoundingClientRect().width > 0).length,
  stacked_fractions: fracs.filter(f => f.children.length == 2 &&
      f.children[0].getBoundingClientRect().bottom <= f.children[1].getBoundingClientRect().top + 1).length,
  fractions: fracs.length,
  images: imgs.length,
  broken_images: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src')),
  steps: document.querySelectorAll('details.step').length,
  steps_open: document.querySelectorAll('details.step[open]').length,
  nav: [...document.querySelectorAll('nav.pages a')].map(a => [a.rel, a.getAttribute('href')]),
};
"""


def _errors(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e.get("level") in ("SEVERE", "ERROR")]


def _screenshot(driver, path: Path) -> None:
    """The whole page (up to SCREENSHOT_HEIGHT px) as a PNG."""
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = metrics.get("cssContentSize") or metrics["contentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], SCREENSHOT_HEIGHT), "scale": 1}
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
    )
    path.write_bytes(base64.b64decode(shot["data"]))


def test_every_page_in_headless_chromium(browser, site):  # the browser first: no build to skip
    out, lessons = site
    html_dir = out / "html"
    check_site(html_dir)  # the structure first: a quick failure names the page
    pages = sorted(p.name for p in html_dir.glob("*.html"))
    assert len(pages) == len(lessons) + 3  # index, the lessons, the solutions, the references
    shots = out / "screenshots"
    shots.mkdir(exist_ok=True)
    browser.get_log("browser")  # start with an empty log
    for name in pages:
        browser.get((html_dir / name).as_uri())
        facts = browser.execute_script(PAGE_FACTS)
        assert _errors(browser) == [], name
        text = browser.execute_script(VISIBLE)
        assert not UNRENDERED_TEX.search(text), (name, UNRENDERED_TEX.search(text).group())
        assert facts["broken_images"] == [], name
        source = (html_dir / name).read_text(encoding="utf-8")
        assert facts["images"] == source.count("<img "), name
        assert facts["math"] == source.count("<math"), name
        assert facts["mathml_elements"] == facts["math"] == facts["math_laid_out"], (name, facts)
        assert facts["stacked_fractions"] == facts["fractions"], (name, facts)  # \frac: numerator over denominator
        if name not in ("index.html", "references.html"):  # the contents and the works cited have no math
            assert facts["math"] > 0, name
            assert ["contents", "index.html"] in facts["nav"], name
        assert facts["steps"] == source.count('<details class="step"'), name
        assert facts["steps_open"] == 0, name  # folded: the equation shows, its justification on a click
        _screenshot(browser, shots / f"{name[:-5]}.png")
    lessons_with_derivations = [lf.stem for lf, derives in lessons if derives]
    assert lessons_with_derivations
    for stem in lessons_with_derivations:
        assert '<details class="step"' in (html_dir / f"{stem}.html").read_text(encoding="utf-8"), stem
    print(f"\nscreenshots of the web book: {shots}")


def test_a_step_opens_to_its_justification(browser, site):
    out, lessons = site
    stem = next(lf.stem for lf, derives in lessons if derives)
    browser.get((out / "html" / f"{stem}.html").as_uri())
    step = browser.find_element("css selector", "details.step")
    why = step.find_element("css selector", ".why")
    assert not why.is_displayed()
    step.find_element("css selector", "summary").click()
    assert step.get_attribute("open") is not None and why.is_displayed()
    assert why.text.strip() and "Checked" in why.text or "definition" in why.text.lower()


def test_the_site_served_over_http_and_its_navigation(browser, site):
    """From a web server: the contents page's next link, then each page's, leads through every page
    in order, and each page's contents link leads back."""
    out, lessons = site
    expected = [f"{lf.stem}.html" for lf, _ in lessons] + ["solutions.html", "references.html"]
    with http_server(out / "html") as root:
        browser.get_log("browser")
        browser.get(root + "index.html")
        visited = []
        while True:
            assert _errors(browser) == [], browser.current_url
            nxt = browser.find_elements("css selector", "nav.top a[rel=next]")
            if not nxt:
                break
            nxt[0].click()
            visited.append(urlsplit(browser.current_url).path.rsplit("/", 1)[-1])
            assert browser.find_element("css selector", "h1").text.strip()
            back = browser.find_element("css selector", "nav.bottom a[rel=contents]").get_attribute("href")
            assert back == root + "index.html"
        assert visited == expected
        for p in browser.execute_script("return [...document.images].map(i => i.naturalWidth)"):
            assert p > 0
