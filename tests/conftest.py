"""Markers and fixtures of the kit's own tests.

``full_mnist``: needs the full MNIST (60,000 + 10,000 images); runs when the environment variable
``VAEKIT_FULL_MNIST_ROOT`` names a folder with its IDX files, and is skipped with that reason otherwise. Tests
that can run on the 5,000-digit subset use ``VAEKIT_DATA_ROOT`` instead.
"""

from __future__ import annotations

import pytest

FULL_MNIST_ROOT_ENV = "VAEKIT_FULL_MNIST_ROOT"


@pytest.fixture(autouse=True)
def _autograd_as_shipped():
    """Undo vaekit.autograd_fixes after every test that installed them (vaekit train does, for the NumPy track): they
    change autograd for the whole process, and no other test may depend on what ran before it."""
    yield
    from vaekit.autograd_fixes import uninstall_autograd_fixes

    uninstall_autograd_fixes()


def pytest_configure(config):
    config.addinivalue_line(
        "markers", f"full_mnist: needs the full MNIST; set ${FULL_MNIST_ROOT_ENV} to the folder of its IDX files")
