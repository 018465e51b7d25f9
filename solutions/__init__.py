"""Reference solutions of the VAE course kit. The student stubs in ``exercises/`` are generated from these."""
