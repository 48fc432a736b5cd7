"""Reference joint: architecture, checkpoint loader and pretrain()."""

__all__: list[str] = []
