"""``vaekit train``: training loops for the two tracks around the student's (or the reference) functions.

``config.py`` holds the run's settings, ``loop.py`` the epoch loop both tracks share, ``numpy_ag.py`` and
``pytorch.py`` one ``Trainer`` class each (same methods, same order), ``figures.py`` the pictures drawn at the
end of a run.
"""
