"""The course's lessons, NN_name.py in Jupytext percent format: files that `symnn course build`
runs one by one (or `python lessons/NN_name.py` as a script), not modules to import.

This folder installs as the package symnn.lessons (pyproject.toml maps it there), so the lessons
ship with every install without a symlink; symnn.course.book.lessons_dir() finds them.
"""
