"""Grading beyond ``pytest grader``: reports, sandboxed grading of submissions, handouts, class grading and
the Gradescope autograder bundle. Instructors reach it through ``vaekit grade``, ``vaekit grade-class``,
``vaekit handout`` and ``vaekit gradescope-bundle``.
"""
