"""Reference models shipped with small pretrained checkpoints in
``musictext/checkpoints/``: the tagger (``tagger``), the joint text-audio
embedding (``joint``) and the text-to-music generator (``generator``).
Each module defines its architecture, a loader that checks the checkpoint's
SHA-256, and ``pretrain(out_dir)`` that reproduces the checkpoint from the
built-in data (run through ``python -m musictext.pretrain``)."""
