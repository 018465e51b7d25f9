"""NumPy/autograd track: a VAE written with ``autograd.numpy`` so that ``autograd.grad`` differentiates it."""
