"""SynthCaps, the book's built-in music-caption dataset, and data loaders."""
from .build import (CLIP_SECONDS, DATASET_NAME, DEFAULT_CLIPS, DEFAULT_SEED, build_dataset,
                    default_root, ensure_dataset, is_built)
from .captions import (CAPTION_PARAPHRASE, CAPTION_SENTENCE, CAPTION_TAG_LIST, heldout_caption, make_captions,
                       tags_in_text)
from .composer import STYLE_NAMES, STYLES, compose
from .datasets import (AudioFolder, CaptionSet, PublicCaptions, SynthCaps, collate, list_audio_files, multi_hot,
                       read_manifest)
from .real import (DATASET_ENV, RealCaptions, open_splits, read_caption_folder, read_lp_musiccaps,
                   read_musiccaps, read_song_describer)
from .render import HELDOUT_SOUNDFONT, SOUNDFONTS, TRAIN_SOUNDFONTS, render_midi, soundfont_path
from .shifted import bach_chorales, chorale_clips, rerendered, shifted_split
from .prepare import prepare_caches
from .vocab import (EVERYDAY_WORDS, GROUP_OF, HELDOUT_TAG_NAMES, HELDOUT_WORDS, INSTRUMENTS, PROGRAM_OF, TAG_GROUPS, TAGS,
                    TRAIN_WORDS, heldout_vocabulary)

__all__ = [n for n in dir() if not n.startswith("_")]
