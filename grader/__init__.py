"""The kit's autograder: ``pytest grader`` grades ``exercises/`` (or ``--target DIR``) and prints a score table."""
