"""The vectorised daily run: snapshots in, loan states out, agreeing with the kernel to the fen."""
