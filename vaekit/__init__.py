"""vaekit: support code for the VAE course kit (data, figures, checkpoints, stubs, command line).

Students do not edit this package; they edit ``exercises/``.
"""

IMAGE_SIDE = 28
IMAGE_DIM = IMAGE_SIDE * IMAGE_SIDE  # D_x: pixels per MNIST image
