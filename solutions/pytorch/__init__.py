"""PyTorch track: the same VAE with ``torch`` tensors, ``nn.Module`` networks and ``torch.autograd``."""
