"""Your VAE: fill in the stubs in ``numpy_ag/`` first, then ``pytorch/``. Check your work with ``pytest grader``."""
