"""The lecture's slides: a Beamer deck per lesson, `slides/NN_name.tex`, and `slides/NN_name.pdf`
when pdflatex (with Beamer and PGF) is on the PATH.

    from symnn.course.slides import deck_tex, write_slides
    tex = deck_tex(lesson)                          # one lesson's deck, from run_lesson's Lesson
    paths = write_slides(pairs, out, force, title)  # what `symnn course build` calls

A deck is made from the lesson's blocks, in the book's reading order:

- a title frame, then one idea per frame: prose is split at its headings (a `##` heading is a
  Beamer section and the title of the frames under it) and its paragraphs, a paragraph that would
  not fit is split between sentences, and short paragraphs of one section share a frame;
- every derivation step is revealed by one overlay (`\\onslide<k->`), with its justification
  under it; a section with more steps than a frame holds goes on over several frames;
- a table is split over frames by rows, a figure fills a frame of its own;
- a feature map the lesson computed cell by cell (symnn.vision.step_tables) is an animation, one
  overlay per cell: the window on the image, its products with the detector, their sum, the map
  filled in so far; with more than MAX_ANIMATED cells the first cells are animated and the slide
  says that the others are computed the same way;
- notes as highlighted blocks, then the exercises, then the additional reading.

No frame may overflow: the frame's height is estimated from what it holds (the number of lines
of text, the rows and fractions of each formula), and a formula or a table wider than the frame
is scaled down to the frame's width (the log then says `symnn: scaled ...`). The tests compile
the decks and find no overfull box over 1 pt. Two builds give identical .tex files.

The package's modules: sizes (a frame and the sizes its estimates count in), formulas (how tall a
formula prints, a derivation step's rows), frames (a lesson's blocks as frames), animation (the
feature map cell by cell), deck (the preamble and title frame, compiling, the files).
"""

from symnn.course.slides.animation import FIRST_CELLS, MAX_ANIMATED, feature_map_frames, step_cells
from symnn.course.slides.deck import (
    FOLDER,
    PASSES,
    PREAMBLE,
    CompiledDeck,
    Deck,
    beamer_missing,
    build_decks,
    compile_deck,
    deck_tex,
    write_slides,
)
from symnn.course.slides.formulas import math_height, step_rows
from symnn.course.slides.frames import MAX_TABLE_ROWS, lesson_frames
from symnn.course.slides.sizes import BODY, LINE, Frame

__all__ = [
    "BODY",
    "FIRST_CELLS",
    "FOLDER",
    "LINE",
    "MAX_ANIMATED",
    "MAX_TABLE_ROWS",
    "PASSES",
    "PREAMBLE",
    "CompiledDeck",
    "Deck",
    "Frame",
    "beamer_missing",
    "build_decks",
    "compile_deck",
    "deck_tex",
    "feature_map_frames",
    "lesson_frames",
    "math_height",
    "step_cells",
    "step_rows",
    "write_slides",
]
