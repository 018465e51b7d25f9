"""The worker: the only process that runs graded code.

The judge (``pytest grader``) never imports a submission. It starts one worker per track (in a bubblewrap
sandbox when it can, see :mod:`grader.sandbox`), sends it requests over :mod:`.wire` and gets plain data back:
values, gradients, shapes, exception texts. Everything here is trusted harness code, but it shares a process
with the graded code, so the judge treats every answer as a claim to check against data the worker never sees
(``grader/reference.npz`` and the hidden tests stay outside the sandbox).

    __main__.py   start-up: limits, a lower-privileged user, then the request loop
    loader.py     imports ``<submission>/<track>/<module>.py`` as the package ``submission.<track>``
    serve.py      the request loop: begin / call / getattr / probe / end
    probes.py     the computations a test asks for by name (autograd gradients, spies, training steps ...)
    wire.py       the message format, shared with the judge
"""
