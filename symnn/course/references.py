"""The works the course cites: the lecture's additional readings and the sources of its figures,
one entry each, for every format (the book's bibliography, Markdown, HTML, notebooks).

    from symnn.course import references
    ref = references.entry("nielsen")
    ref.text()        # Nielsen, M. (2015). Neural Networks and Deep Learning. http://...
    ref.markdown()    # Nielsen, M. (2015). *Neural Networks and Deep Learning*. <http://...>
    ref.html()        # the same with <em> and a link
    references.bibliography_latex(["nielsen", "lecun"])   # \\begin{thebibliography} ... (the book's end)

A lesson names its readings by key (`Lesson(3, "...", reading=["nielsen", "trask"])`); the
book's "Additional reading" cites them (\\cite{nielsen}) and its References section lists each
once. A reading that is not an entry here (an author's own lesson may give any text) stays text.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from symnn.errors import InputError


@dataclass(frozen=True)
class Reference:
    key: str  # how lessons and \cite name it: "nielsen"
    author: str  # "Nielsen, M." (surname first), or an organisation
    year: int | None  # None: undated (a web page, a talk), printed "n.d."
    title: str
    url: str = ""
    where: str = ""  # the publisher, journal or site, after the title
    note: str = ""  # what the lecture takes from it, after everything else

    @property
    def when(self) -> str:
        return str(self.year) if self.year else "n.d."

    def text(self) -> str:
        """One line of plain text: 'Author (year). Title. Where. URL'."""
        parts = [f"{self.author} ({self.when}).", f"{self.title}."]
        parts += [f"{self.where}."] if self.where else []
        parts += [f"{self.note[0].upper()}{self.note[1:]}."] if self.note else []
        parts += [self.url] if self.url else []
        return " ".join(parts)

    def markdown(self) -> str:
        """The same in Markdown: the title in italics, the address a link."""
        parts = [f"{_md(self.author)} ({self.when}).", f"*{_md(self.title)}*."]
        parts += [f"{_md(self.where)}."] if self.where else []
        parts += [f"{_md(self.note[0].upper() + self.note[1:])}."] if self.note else []
        parts += [f"<{self.url}>"] if self.url else []
        return " ".join(parts)

    def html(self) -> str:
        """The same as an HTML fragment (escaped): the title in <em>, the address a link."""
        e = html.escape
        parts = [f"{e(self.author)} ({self.when}).", f"<em>{e(self.title)}</em>."]
        parts += [f"{e(self.where)}."] if self.where else []
        parts += [f"{e(self.note[0].upper() + self.note[1:])}."] if self.note else []
        parts += [f'<a href="{e(self.url)}">{e(self.url)}</a>'] if self.url else []
        return " ".join(parts)

    def latex(self) -> str:
        """The entry's text in LaTeX (its \\bibitem without the \\bibitem), the address as \\url."""
        from symnn.render.latex import latex_text

        parts = [f"{latex_text(self.author)} ({self.when}).", rf"\emph{{{latex_text(self.title)}}}."]
        parts += [f"{latex_text(self.where)}."] if self.where else []
        parts += [f"{latex_text(self.note[0].upper() + self.note[1:])}."] if self.note else []
        parts += [rf"\url{{{_url_tex(self.url)}}}"] if self.url else []
        return " ".join(parts)

    def short(self) -> str:
        """How the text names it: 'Nielsen (2015)', 'LeCun et al. (1998)'."""
        names = [a.strip() for a in re.split(r",\s*(?:and\s+)?|\s+and\s+", self.author) if a.strip()]
        surnames = [n for n in names if not re.fullmatch(r"(?:[A-Z]\.\s*)+", n)]  # drop the initials
        if len(surnames) > 2:
            who = f"{surnames[0]} et al."
        elif len(surnames) == 2:
            who = f"{surnames[0]} and {surnames[1]}"
        else:
            who = surnames[0] if surnames else self.author
        return f"{who} ({self.when})"


def _md(s: str) -> str:
    return re.sub(r"([*_\[\]<>`\\])", r"\\\1", s)


def _url_tex(url: str) -> str:
    return url.replace("\\", "").replace("%", r"\%").replace("#", r"\#")


_NIELSEN = "http://neuralnetworksanddeeplearning.com/chap2.html"
_ENTRIES = [
    Reference("nielsen", "Nielsen, M.", 2015, "Neural Networks and Deep Learning", _NIELSEN,
              "Determination Press", "chapters 1 and 2: the perceptron, gradient descent, back-propagation"),
    Reference("trask", "Trask, A.", 2015, "A Neural Network in 13 lines of Python (Part 2 – Gradient Descent)",
              "https://iamtrask.github.io/2015/07/27/python-network-part2/", "i am trask (blog)"),
    Reference("crossvalidated", "CrossValidated", 2015,
              "A list of cost functions used in neural networks, alongside applications",
              "http://stats.stackexchange.com/questions/154879/"
              "a-list-of-cost-functions-used-in-neural-networks-alongside-applications",
              "Stack Exchange, question 154879"),
    Reference("lecun", "LeCun, Y., Bottou, L., Bengio, Y. and Haffner, P.", 1998,
              "Gradient-Based Learning Applied to Document Recognition",
              "http://yann.lecun.com/exdb/publis/pdf/lecun-01a.pdf", "Proceedings of the IEEE 86(11), 2278–2324"),
    Reference("wu", "Wu, J.", 2017, "Introduction to Convolutional Neural Networks",
              "http://cs.nju.edu.cn/wujx/paper/CNN.pdf", "Nanjing University"),
    Reference("hinton", "Hinton, G.", None, "A talk (the lecture gives no title, date or address)",
              note="the source of the lecture's image of test digits with the network's guesses"),
    Reference("gimp", "The GIMP Documentation Team", None, "GIMP User Manual: Convolution Matrix",
              "https://docs.gimp.org/en/plug-in-convmatrix.html",
              note="the lecture's source of the sharpen, blur, edge and emboss kernels"),
    Reference("goodfellow", "Goodfellow, I., Bengio, Y. and Courville, A.", 2016, "Deep Learning",
              "https://www.deeplearningbook.org", "MIT Press"),
    Reference("pytorch-maxpool", "PyTorch", None, "torch.nn.MaxPool2d (PyTorch documentation)",
              "https://pytorch.org/docs/stable/generated/torch.nn.MaxPool2d.html",
              note="its backward pass gives the gradient to the first maximum"),
]  # fmt: skip
ENTRIES: dict[str, Reference] = {r.key: r for r in _ENTRIES}


def entry(key: str) -> Reference:
    """The entry named key ("nielsen"); an unknown key is an InputError naming the known ones."""
    try:
        return ENTRIES[str(key).strip().lower()]
    except KeyError:
        raise InputError(f"no reference {key!r}; the references are {', '.join(ENTRIES)}") from None


def keys() -> list[str]:
    return list(ENTRIES)


def _address(text: str) -> str:
    m = re.search(r"https?://\S+", text)
    return re.sub(r"^https?://(www\.)?", "", m.group().rstrip(".,;")).rstrip("/") if m else ""


def find(text: str) -> Reference | None:
    """The entry a reading given as text is (its key, or its web address: the derivations cite
    works as text, e.g. symnn.derive.topics.references), or None."""
    if str(text).strip().lower() in ENTRIES:
        return ENTRIES[str(text).strip().lower()]
    address = _address(str(text))
    if not address:
        return None
    for ref in _ENTRIES:
        mine = _address(ref.url)
        if mine and (address == mine or address.startswith(mine + "/") or mine.startswith(address + "/")):
            return ref
    if address.startswith("stats.stackexchange.com/questions/154879"):
        return ENTRIES["crossvalidated"]
    return None


def order(cited: list[str]) -> list[str]:
    """The keys in the References section's order: by author, then year; each once."""
    unique = list(dict.fromkeys(cited))
    return sorted(unique, key=lambda k: (entry(k).author.lower(), entry(k).year or 0))


def bibliography_latex(cited: list[str]) -> str:
    """The book's References section (a thebibliography, in the table of contents): each cited
    entry once; no BibTeX run needed. Empty when nothing is cited."""
    if not cited:
        return ""
    items = "\n".join(rf"\bibitem{{{k}}} {entry(k).latex()}" for k in order(cited))
    return (
        "\\def\\bibname{References}\\def\\refname{References}\n"  # book and article classes
        "{\\raggedright\n\\begin{thebibliography}{99}\n"
        "\\csname phantomsection\\endcsname\\addcontentsline{toc}{chapter}{References}\n"
        f"{items}\n\\end{{thebibliography}}\n\\par}}"
    )


def bibliography_markdown(cited: list[str], heading: str = "## References") -> str:
    """The References section in Markdown: each cited entry once, a list."""
    if not cited:
        return ""
    return heading + "\n\n" + "\n".join(f"- {entry(k).markdown()}" for k in order(cited))


def cite_latex(keys: list[str]) -> str:
    return r"\cite{" + ",".join(keys) + "}"
