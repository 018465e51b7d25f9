"""Grading beyond ``pytest grader``: reports, sandboxed grading of submissions, class grading and the Gradescope
autograder bundle. Instructors reach it through ``vaekit grade``, ``vaekit grade-class`` and
``vaekit gradescope-bundle`` (the handout it builds on is vaekit/handout.py).
"""
