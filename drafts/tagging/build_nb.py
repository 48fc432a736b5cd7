"""Build description/tagging.ipynb from the cell list below (source of truth during writing)."""
import nbformat as nbf

cells = []
def md(s): cells.append(nbf.v4.new_markdown_cell(s.strip("\n")))
def code(s, tags=()):
    c = nbf.v4.new_code_cell(s.strip("\n"))
    if tags:
        c.metadata["tags"] = list(tags)
    cells.append(c)
IGN = ("nbval-ignore-output",)

md(r"""
# Tagging music with a convolutional network

In this notebook you build a music **auto-tagger**: a small convolutional network that listens to a five-second clip and scores 46 tags at once (genre, instruments, mood, tempo, key, dynamics and drums). You then check it against a classic pipeline of hand-crafted features, and finally teach it to score tag words it has never seen.

**What you will build.**
- a short-chunk residual CNN on log-mel spectrograms, trained with binary cross-entropy;
- a classic baseline: MFCC, chroma, spectral and rhythm statistics with logistic regression;
- a zero-shot tagger that maps audio into the space of sentence embeddings, so it can score unseen words.

**Learning goals.**
- Frame tagging as $K$ independent binary problems and write its loss.
- Measure a tagger with macro and per-tag ROC-AUC and PR-AUC, and see why PR-AUC is the stricter number on imbalanced tags.
- Understand what a learned representation gains over hand-crafted features, and what word embeddings add on top.

**Run time.** About two to three minutes on a laptop CPU with two cores (the data must be built first; see below).

**Read first.** {doc}`tasks` and {doc}`models` for the ideas, {doc}`evaluation` for the metrics, and the {doc}`dataset` notebook for the data.
""")

code(r"""
%matplotlib inline
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from musictext.audio import players
from musictext.data import GROUP_OF, TAG_GROUPS, TAGS, SynthCaps, ensure_dataset
from musictext.metrics import group_scores, tagging_scores
from musictext.plot import spectrogram, tag_bars
from musictext.train import Progress, count_parameters, save_checkpoint, seed_everything

torch.set_num_threads(2)
cpu_start = time.process_time()  # CPU seconds, to estimate the cost on an idle machine
seed_everything(0)
""")

# ---------------------------------------------------------------- data
md(r"""
## Data: clips and multi-hot tags

We use SynthCaps, the book's built-in dataset (see {doc}`dataset`). `ensure_dataset()` returns its folder and builds it the first time (about two minutes). Each split comes with log-mel spectrograms of shape (clips, mel bands, frames), computed once and cached, and a multi-hot target matrix with one column per tag.
""")

code(r"""
root = ensure_dataset()
train, valid, test = (SynthCaps(root, split) for split in ("train", "valid", "test"))
K = len(TAGS)
for name, ds in (("train", train), ("valid", valid), ("test", test)):
    print(f"{name:5s}: log-mel {tuple(ds.logmel.shape)}  targets {tuple(ds.targets.shape)}")
print(f"{K} tags in {len(TAG_GROUPS)} groups:", {g: len(ts) for g, ts in TAG_GROUPS.items()})
""")

code(r"""
i = 0
rec = train.records[i]
print("tags:", ", ".join(rec["tags"]))
print("multi-hot:", train.targets[i].int().tolist())
fig, ax = plt.subplots(figsize=(7, 2.6))
spectrogram(train.logmel[i], ax=ax, title=f"clip {rec['id']} ({rec['style']})")
plt.show()
""")

md(r"""
Every clip has exactly one tag from each group except instruments, where it has one to three. Tags are therefore far from balanced: a tempo or key tag covers a third or half of the clips, while a single instrument may appear in a few percent of them. This imbalance is typical of real tag data and decides which metric we trust later.
""")

code(r"""
freq = train.targets.mean(dim=0).numpy()       # (K,) share of training clips with each tag
order = np.argsort(-freq)
groups = list(TAG_GROUPS)
colors = plt.cm.tab10(np.arange(len(groups)))
color_of = {g: colors[j] for j, g in enumerate(groups)}
fig, ax = plt.subplots(figsize=(9, 3.2))
ax.bar(range(K), freq[order], color=[color_of[GROUP_OF[TAGS[k]]] for k in order])
ax.set_xticks(range(K))
ax.set_xticklabels([TAGS[k] for k in order], rotation=90, fontsize=7)
ax.set_ylabel("share of training clips")
ax.set_title("Tag frequency in the training split (colour = tag group)")
ax.legend(handles=[plt.Rectangle((0, 0), 1, 1, color=color_of[g]) for g in groups], labels=groups,
          fontsize=7, ncol=4, loc="upper right")
plt.tight_layout()
plt.show()
print(f"most common: {TAGS[order[0]]} ({freq[order[0]]:.0%});  rarest: {TAGS[order[-1]]} ({freq[order[-1]]:.1%})")
""")

# ---------------------------------------------------------------- model
md(r"""
## Model: a short-chunk residual CNN

The network reads a log-mel spectrogram $X \in \mathbb{R}^{M \times T}$ ($M$ mel bands, $T$ frames) as a one-channel image. Following the short-chunk CNN of {cite:t}`won2020evaluation`, it is a stack of small $3 \times 3$ convolutions with residual connections, each block halving both axes with max pooling. A mean over frequency and then a mean and a max over time turn the last feature map into one vector per clip, whatever the clip's length. A linear layer maps that vector to an embedding $\mathbf{h}$ (we reuse it for zero-shot tagging below), and a last linear layer gives one logit $z_k$ per tag.

Because the network pools globally over time, we can train it on short random chunks (2 s of the 5 s clips: more varied examples per epoch, less compute) and test it on whole clips.
""")

code(r"""
class ResBlock(nn.Module):
    # (B, c_in, F, T) -> (B, c_out, F/2, T/2): two 3x3 convolutions, a skip path, 2x2 max pooling
    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.skip = nn.Identity() if c_in == c_out else nn.Sequential(
            nn.Conv2d(c_in, c_out, 1, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        return F.max_pool2d(F.relu(h + self.skip(x)), 2)


class ShortChunkCNN(nn.Module):
    # log-mel (B, M, T) -> logits (B, n_out); embed() gives the penultimate vector (B, emb_dim)
    def __init__(self, n_out: int, stem: int = 8, channels=(16, 32, 64, 96), emb_dim: int = 96,
                 dropout: float = 0.3):
        super().__init__()
        self.input_norm = nn.BatchNorm2d(1)        # learns the scale of log-mel values
        self.stem = nn.Sequential(nn.Conv2d(1, stem, 3, padding=1, bias=False), nn.BatchNorm2d(stem),
                                  nn.ReLU(), nn.MaxPool2d(2))
        widths = [stem, *channels]
        self.blocks = nn.Sequential(*[ResBlock(a, b) for a, b in zip(widths[:-1], widths[1:])])
        self.proj = nn.Linear(2 * widths[-1], emb_dim)
        self.bn_emb = nn.BatchNorm1d(emb_dim)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(emb_dim, n_out)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        h = self.blocks(self.stem(self.input_norm(x.unsqueeze(1))))   # (B, C, M', T')
        h = h.mean(dim=2)                                             # (B, C, T')
        h = torch.cat([h.mean(dim=2), h.amax(dim=2)], dim=1)          # (B, 2C)
        return F.relu(self.bn_emb(self.proj(h)))                      # (B, emb_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.embed(x)))                 # (B, n_out)


model = ShortChunkCNN(n_out=K)
print(f"{count_parameters(model):,} trainable parameters")
with torch.no_grad():
    model.eval()
    print("logits for two clips:", tuple(model(train.logmel[:2]).shape))
""")

md(r"""
### Loss: binary cross-entropy over sigmoid outputs

Each tag is its own yes/no question, so each logit $z_{ik}$ (clip $i$, tag $k$) goes through a sigmoid $\hat{y}_{ik} = \sigma(z_{ik}) = 1 / (1 + e^{-z_{ik}})$, and the loss averages the binary cross-entropy over the $B$ clips of a batch and the $K$ tags:

$$
\mathcal{L} = -\frac{1}{BK} \sum_{i=1}^{B} \sum_{k=1}^{K} \Big[ y_{ik} \log \hat{y}_{ik} + (1 - y_{ik}) \log\left(1 - \hat{y}_{ik}\right) \Big],
$$

where $y_{ik} \in \{0, 1\}$ is 1 when clip $i$ carries tag $k$. Unlike a softmax, the sigmoids do not compete, so several tags can be near 1 at once. `F.binary_cross_entropy_with_logits` computes this from the logits in a numerically stable way.
""")

code(r"""
def bce_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    # logits, targets: (B, K); mean binary cross-entropy over clips and tags
    return F.binary_cross_entropy_with_logits(logits, targets)


@torch.no_grad()
def predict(net: nn.Module, logmel: torch.Tensor, batch_size: int = 100) -> torch.Tensor:
    # whole clips (N, M, T) -> probabilities (N, K); no clip is dropped
    net.eval()
    return torch.cat([torch.sigmoid(net(logmel[i:i + batch_size])) for i in range(0, len(logmel), batch_size)])
""")

# ---------------------------------------------------------------- training
md(r"""
## Training

AdamW with a one-cycle learning-rate schedule, batches of 32 random 2-second chunks, a few epochs. After each epoch we print the validation macro ROC-AUC and PR-AUC (defined in the next section). The log lines and timings differ from machine to machine.
""")

code(r"""
def random_chunks(x: torch.Tensor, frames: int, g: torch.Generator) -> torch.Tensor:
    # (B, M, T) -> (B, M, frames): one random crop position per batch
    start = int(torch.randint(0, x.shape[-1] - frames + 1, (1,), generator=g))
    return x[..., start:start + frames]


def train_tagger(net, x, y, epochs, chunk_seconds=2.0, clip_seconds=5.0, batch_size=32, lr=3e-3,
                 loss_fn=bce_loss, eval_fn=None, seed=0):
    # x: (N, M, T) log-mels, y: (N, n_out) targets
    g = seed_everything(seed)
    frames = int(x.shape[-1] * chunk_seconds / clip_seconds)
    steps = epochs * ((len(x) + batch_size - 1) // batch_size)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.15)
    progress = Progress(steps, every=steps // epochs, prefix="step ")
    step, losses = 0, []
    for epoch in range(epochs):
        net.train()
        perm = torch.randperm(len(x), generator=g)
        for b in range(0, len(x), batch_size):
            idx = perm[b:b + batch_size]
            loss = loss_fn(net(random_chunks(x[idx], frames, g)), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            losses.append(loss.item())
            progress(step, epoch=epoch + 1, loss=float(np.mean(losses[-20:])))
        if eval_fn is not None:
            print("   valid:", eval_fn(net), flush=True)
    net.eval()
    return losses


def valid_scores(net) -> str:
    s = tagging_scores(valid.targets, predict(net, valid.logmel), TAGS)
    return f"ROC-AUC {s['roc_auc']:.3f}  PR-AUC {s['pr_auc']:.3f}"


EPOCHS = 12
t0 = time.process_time()
losses = train_tagger(model, train.logmel, train.targets, EPOCHS, eval_fn=valid_scores)
print(f"training took {time.process_time() - t0:.0f} CPU seconds")
""", IGN)

code(r"""
ckpt_dir = Path(tempfile.gettempdir()) / "musictext-tagging"
path = save_checkpoint(model, ckpt_dir / "shortchunk_cnn.safetensors",
                       config={"tags": TAGS, "epochs": EPOCHS, "n_mels": int(train.logmel.shape[1])})
print(f"saved {path.name} ({path.stat().st_size / 1e6:.1f} MB) in the temporary folder")
""", IGN)

# ---------------------------------------------------------------- evaluation
md(r"""
## Evaluation on the whole test split

We score every one of the 400 test clips on its full 5 seconds. For tag $k$, with scores $s_{ik}$ and labels $y_{ik}$ over the $N$ test clips,

$$
\text{ROC-AUC}_k = P\left(s_{ik} > s_{jk} \mid y_{ik} = 1, y_{jk} = 0\right),
\qquad
\text{PR-AUC}_k = \frac{1}{N_k^{+}} \sum_{i:\, y_{ik} = 1} \mathrm{Prec}_k(s_{ik}),
$$

where ROC-AUC is the probability that a random positive clip outranks a random negative one, $N_k^{+}$ is the number of positives, and $\mathrm{Prec}_k(s_{ik})$ is the share of true positives among the clips scoring at least $s_{ik}$ (average precision, the usual estimate of the area under the precision-recall curve). The **macro** scores average over the $K$ tags, so rare tags count as much as common ones. A random scorer gets ROC-AUC 0.5 on every tag but PR-AUC equal to the tag's frequency, which is why PR-AUC is the stricter number here (see {doc}`evaluation`). `tagging_scores` wraps scikit-learn's `roc_auc_score` and `average_precision_score`.
""")

code(r"""
test_probs = predict(model, test.logmel)                 # (N_test, K)
cnn = tagging_scores(test.targets, test_probs, TAGS)
cnn_groups = group_scores(cnn["per_tag"], GROUP_OF)
print(f"CNN on {len(test)} test clips: macro ROC-AUC {cnn['roc_auc']:.3f}   macro PR-AUC {cnn['pr_auc']:.3f}")
print(f"{'group':11s} {'ROC-AUC':>8s} {'PR-AUC':>8s}")
for g in TAG_GROUPS:
    print(f"{g:11s} {cnn_groups[g]['roc_auc']:8.3f} {cnn_groups[g]['pr_auc']:8.3f}")
""", IGN)

md(r"""
### A classic baseline: hand-crafted features and logistic regression

Before CNNs, taggers summarised each clip with hand-designed descriptors and fed them to a linear classifier or an SVM. We compute, with librosa {cite:p}`mcfee2015librosa`, the mean and standard deviation over time of

- 20 MFCCs (the spectral envelope, i.e. timbre),
- 12 chroma bins (pitch classes, i.e. harmony and key),
- spectral centroid, bandwidth, roll-off, flatness, contrast, zero-crossing rate and RMS energy (brightness, noisiness, loudness),
- onset strength, plus a global tempo estimate (rhythm),

and train one logistic regression per tag (one-vs-rest) on the standardised features of the same training split. The test split is the same 400 clips.
""")

code(r"""
import librosa
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def classic_features(wave: np.ndarray, sr: int) -> np.ndarray:
    # waveform (T,) -> fixed-length vector of clip statistics (D,)
    S = np.abs(librosa.stft(wave, n_fft=1024, hop_length=512))                 # (1 + n_fft/2, frames)
    mel = librosa.feature.melspectrogram(S=S ** 2, sr=sr, n_mels=64)
    log_mel = librosa.power_to_db(mel)
    frames = [
        librosa.feature.mfcc(S=log_mel, n_mfcc=20),
        librosa.feature.chroma_stft(S=S ** 2, sr=sr),
        librosa.feature.spectral_centroid(S=S, sr=sr),
        librosa.feature.spectral_bandwidth(S=S, sr=sr),
        librosa.feature.spectral_rolloff(S=S, sr=sr),
        librosa.feature.spectral_flatness(S=S),
        librosa.feature.spectral_contrast(S=S, sr=sr, n_bands=5, fmin=100.0),
        librosa.feature.zero_crossing_rate(wave, frame_length=1024, hop_length=512),
        librosa.feature.rms(S=S, frame_length=1024),
    ]
    onset = librosa.onset.onset_strength(S=log_mel, sr=sr)
    frames.append(onset[None, :])
    stats = [np.concatenate([f.mean(axis=1), f.std(axis=1)]) for f in frames]
    tempo = librosa.feature.tempo(onset_envelope=onset, sr=sr, hop_length=512)
    return np.concatenate(stats + [np.log(tempo)]).astype(np.float32)


def feature_matrix(ds: SynthCaps) -> np.ndarray:
    # all clips of a split -> (N, D)
    sr = int(ds.frontend.sample_rate)
    return np.stack([classic_features(ds.wave(i).numpy(), sr) for i in range(len(ds))])


t0 = time.process_time()
feats_train, feats_test = feature_matrix(train), feature_matrix(test)
baseline = make_pipeline(StandardScaler(), OneVsRestClassifier(LogisticRegression(C=0.5, max_iter=2000)))
baseline.fit(feats_train, train.targets.numpy())
base_probs = baseline.predict_proba(feats_test)                            # (N_test, K)
print(f"{feats_train.shape[1]} features per clip; features and fitting took "
      f"{time.process_time() - t0:.0f} CPU seconds")
""", IGN)

code(r"""
base = tagging_scores(test.targets, base_probs, TAGS)
base_groups = group_scores(base["per_tag"], GROUP_OF)
print(f"{'':11s} {'ROC-AUC':>16s} {'PR-AUC':>16s}")
print(f"{'group':11s} {'baseline':>8s} {'CNN':>7s} {'baseline':>8s} {'CNN':>7s}")
for g in TAG_GROUPS:
    print(f"{g:11s} {base_groups[g]['roc_auc']:8.3f} {cnn_groups[g]['roc_auc']:7.3f} "
          f"{base_groups[g]['pr_auc']:8.3f} {cnn_groups[g]['pr_auc']:7.3f}")
print(f"{'macro':11s} {base['roc_auc']:8.3f} {cnn['roc_auc']:7.3f} {base['pr_auc']:8.3f} {cnn['pr_auc']:7.3f}")
""", IGN)

code(r"""
pr_cnn = np.array([cnn["per_tag"][t]["pr_auc"] for t in TAGS])
pr_base = np.array([base["per_tag"][t]["pr_auc"] for t in TAGS])
order = np.argsort(-pr_cnn)
fig, ax = plt.subplots(figsize=(9, 3.4))
ax.plot(range(K), pr_cnn[order], "o-", ms=4, label=f"CNN (macro {cnn['pr_auc']:.2f})")
ax.plot(range(K), pr_base[order], "s-", ms=4, label=f"classic features (macro {base['pr_auc']:.2f})")
ax.plot(range(K), test.targets.mean(0).numpy()[order], ":", color="grey", label="chance (tag frequency)")
ax.set_xticks(range(K))
ax.set_xticklabels([TAGS[k] for k in order], rotation=90, fontsize=7)
ax.set_ylabel("PR-AUC on the test split")
ax.set_ylim(0, 1.02)
ax.set_title("Per-tag PR-AUC, sorted by the CNN's score")
ax.legend(fontsize=8, loc="lower left")
plt.tight_layout()
plt.show()
""")

md(r"""
Read the plot from right to left. Genre and drums are easy for both models. The gap opens on instruments and on musical attributes: a fixed summary of MFCC and chroma statistics mixes the timbres of all instruments playing at once, while the CNN can learn time-frequency patterns specific to each instrument. Key (major or minor) stays hard for both, because a five-second clip does not always make the mode clear.
""")

# ---------------------------------------------------------------- listening
md(r"""
## Listening: what the tagger hears

Three test clips, their true tags in blue, and the twelve tags the CNN scores highest.
""")

code(r"""
picks = [int(np.flatnonzero([r["style"] == s for r in test.records])[0]) for s in ("jazz", "rock", "ambient")]
players([(test.wave(i), f"{test.records[i]['id']}: {', '.join(test.records[i]['tags'])}") for i in picks])
""")

code(r"""
fig, axes = plt.subplots(1, len(picks), figsize=(10, 3.6))
for ax, i in zip(axes, picks):
    tag_bars(TAGS, test_probs[i], truth=test.records[i]["tags"], ax=ax, top=10, title=test.records[i]["id"])
    ax.tick_params(axis="y", labelsize=7)
plt.tight_layout()
plt.show()
""")

# ---------------------------------------------------------------- zero-shot
md(r"""
## Zero-shot tagging: scoring words the model never saw

The tagger above has one output per tag, so it can never say a word outside its 46 tags. {cite:t}`choi2019zeroshot` replaced the last layer by a projection into a space of **word embeddings**: the audio embedding $\mathbf{h}_i$ of clip $i$ is mapped by a learned matrix $W$ to $\mathbf{a}_i = W\mathbf{h}_i$, and each tag $k$ is represented by a fixed text embedding $\mathbf{e}_k$ (here from the bundled sentence encoder, all-MiniLM-L6-v2 {cite:p}`reimers2019sbert,wang2020minilm`). The score is a scaled cosine similarity,

$$
z_{ik} = \alpha \, \frac{\mathbf{a}_i^\top \mathbf{e}_k}{\lVert \mathbf{a}_i \rVert \, \lVert \mathbf{e}_k \rVert} + \beta,
$$

with a learned scale $\alpha$ and offset $\beta$, trained with the same binary cross-entropy as before but only over the seen tags $k \in \mathcal{S}$. A tag outside $\mathcal{S}$ can then be scored by embedding its word and using the same formula: if its word lies near seen words whose sounds it shares, the score carries over.

**Which tags to hold out.** We remove four instrument tags completely: their labels are never used to train the audio network or the projection. We pick instruments whose names have close relatives among the seen tags, as a fair test of transfer through language: *cello* (near *violin*), *trumpet* (near *flute*, *saxophone* and *clarinet*), *electric bass* (near *acoustic bass* and *synth bass*) and *synth pad* (near *synth bass* and *synth lead*); the next cell prints these neighbours. A word whose nearest seen words sound nothing like it could not be scored this way: *marimba*, for instance, lands nearest to *hip hop* and *drums* in this word space, so we do not hold it out.
""")

code(r"""
from musictext.text import load_sentence_encoder

HELD_OUT = ["cello", "trumpet", "electric bass", "synth pad"]
seen = [t for t in TAGS if t not in HELD_OUT]
seen_idx = torch.tensor([TAGS.index(t) for t in seen])
held_idx = torch.tensor([TAGS.index(t) for t in HELD_OUT])

encoder = load_sentence_encoder()
def word_vectors(words: list[str]) -> torch.Tensor:
    # words -> (len(words), d_text) L2-normalised sentence embeddings
    with torch.no_grad():
        return encoder.encode(words)

E_seen = word_vectors(seen)                  # (|S|, d_text)
E_held = word_vectors(HELD_OUT)              # (|U|, d_text)
sim = E_held @ E_seen.T                      # cosine similarity of unseen to seen words
for j, t in enumerate(HELD_OUT):
    near = sim[j].topk(3)
    print(f"{t:14s} nearest seen tags: " + ", ".join(f"{seen[int(n)]} ({v:.2f})" for v, n in zip(near.values, near.indices)))
""")

code(r"""
class ZeroShotTagger(nn.Module):
    # log-mel (B, M, T) -> scores against any set of word vectors E (K', d_text): (B, K')
    def __init__(self, d_text: int, emb_dim: int = 96):
        super().__init__()
        self.audio = ShortChunkCNN(n_out=1, emb_dim=emb_dim)   # its head is unused
        self.W = nn.Linear(emb_dim, d_text, bias=False)
        self.alpha = nn.Parameter(torch.tensor(10.0))
        self.beta = nn.Parameter(torch.tensor(-5.0))
        self.E = None                                          # word vectors to score against

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = F.normalize(self.W(self.audio.embed(x)), dim=-1)  # (B, d_text)
        return self.alpha * a @ self.E.T + self.beta           # (B, K')


zs = ZeroShotTagger(d_text=E_seen.shape[1])
zs.E = E_seen
t0 = time.process_time()
train_tagger(zs, train.logmel, train.targets[:, seen_idx], epochs=6, seed=1)
print(f"training took {time.process_time() - t0:.0f} CPU seconds")
""", IGN)

code(r"""
zs.E = E_held
held_scores = predict(zs, test.logmel)                     # (N_test, |U|) probabilities
zero = tagging_scores(test.targets[:, held_idx], held_scores, HELD_OUT)
print(f"zero-shot ROC-AUC on held-out tags: {zero['roc_auc']:.3f}   PR-AUC {zero['pr_auc']:.3f}")
for t in HELD_OUT:
    v = zero["per_tag"][t]
    print(f"  {t:14s} ROC-AUC {v['roc_auc']:.3f}  PR-AUC {v['pr_auc']:.3f}  (chance PR-AUC {v['support'] / len(test):.3f})")
zs.E = E_seen
seen_scores = tagging_scores(test.targets[:, seen_idx], predict(zs, test.logmel), seen)
print(f"for comparison, the same model on its seen tags: ROC-AUC {seen_scores['roc_auc']:.3f}")
""", IGN)

md(r"""
The held-out words can be any text. Below we score some words that never appear in a training caption or tag: synonyms of seen tags (the SynthCaps *held-out words*, such as *melancholic* for sad), and the held-out instruments under other names. For each word we list the three test clips it ranks highest and whether they truly carry the tag the word stands for.
""")

code(r"""
from musictext.data import HELDOUT_WORDS

probe = {"violoncello": "cello", "bugle": "trumpet", "pad synthesizer": "synth pad", "bass guitar": "electric bass",
         "melancholic": "sad", "upbeat": "happy", "orchestral": "classical", "techno": "electronic",
         "rapid": "fast", "percussion": "drums"}
assert all(t in TAGS for t in probe.values())
zs.E = word_vectors(list(probe))
probe_scores = predict(zs, test.logmel)                    # (N_test, n_words)
truth = test.targets[:, [TAGS.index(t) for t in probe.values()]]
res = tagging_scores(truth, probe_scores, list(probe))
for j, (word, tag) in enumerate(probe.items()):
    top = probe_scores[:, j].topk(3).indices
    hits = "".join("+" if truth[i, j] else "-" for i in top)
    kind = "held-out tag" if tag in HELD_OUT else "unseen word, seen tag"
    print(f"{word:12s} -> {tag:14s} ROC-AUC {res['per_tag'][word]['roc_auc']:.2f}  top-3 {hits}  ({kind})")
""", IGN)

md(r"""
Words that sit close to a seen tag in the sentence-embedding space (*percussion* near *drums*, *orchestral* near *classical*) inherit that tag's scores and work well. Where the nearest seen words describe a different sound, the transfer fails or even inverts. Zero-shot tagging works only as far as the geometry of the word space matches the geometry of sound, which is the motivation for learning the text side jointly with the audio, as the retrieval chapter does.
""")

# ---------------------------------------------------------------- asserts
code(r"""
assert cnn["roc_auc"] >= 0.93, f"CNN macro ROC-AUC {cnn['roc_auc']:.3f} is below 0.93"
assert cnn["pr_auc"] >= 0.75, f"CNN macro PR-AUC {cnn['pr_auc']:.3f} is below 0.75"
assert cnn["pr_auc"] >= base["pr_auc"] + 0.05, \
    f"CNN PR-AUC {cnn['pr_auc']:.3f} does not beat the classic baseline {base['pr_auc']:.3f} by 0.05"
assert zero["roc_auc"] >= 0.75, f"zero-shot ROC-AUC on held-out tags {zero['roc_auc']:.3f} is below 0.75"
""")

code(r"""
import musictext

musictext.report_metrics(roc_auc=cnn["roc_auc"], pr_auc=cnn["pr_auc"], baseline_pr_auc=base["pr_auc"],
                         zeroshot_roc_auc=zero["roc_auc"])
cpu = time.process_time() - cpu_start
print(f"CPU time so far: {cpu:.0f} s, about {cpu / 2:.0f} s on an idle two-core machine")
""", IGN)

# ---------------------------------------------------------------- exercises
md(r"""
## Exercises

1. **Input length.** Train on 1-second chunks instead of 2-second ones (`chunk_seconds=1.0`) and evaluate on whole clips as before. Which tag groups suffer most, and why?
2. **SpecAugment.** Add SpecAugment-style masking {cite:p}`park2019specaugment` to the training batches: zero out (or set to the mean) one random band of up to 8 mel bins and one random span of up to 20 frames per clip. Does it help with 1,400 training clips?
3. **Label noise.** Real tags are incomplete: annotators forget tags. `ensure_dataset(label_noise=0.2)` builds a copy of SynthCaps in which each tag is dropped with probability 0.2 (about 100 s the first time). Train on its noisy training split and evaluate on the clean test split. Which metric drops more, and which tags suffer?
""")

md(r"""
:::{dropdown} Solution 1: input length
```python
short = ShortChunkCNN(n_out=K)
train_tagger(short, train.logmel, train.targets, EPOCHS, chunk_seconds=1.0)
s = tagging_scores(test.targets, predict(short, test.logmel), TAGS)
print(s["roc_auc"], s["pr_auc"])
print(group_scores(s["per_tag"], GROUP_OF))
```
The network still sees whole clips at test time, because it pools globally over time. With one-second chunks, tempo and key suffer most: one second holds only one or two beats and perhaps one chord, so the model cannot learn rhythmic or harmonic context during training. Timbre (instruments) is already audible in short excerpts and changes less. Each step is also cheaper, so in the same time you could train more epochs.
:::

:::{dropdown} Solution 2: SpecAugment
```python
def spec_augment(x: torch.Tensor, max_bins: int = 8, max_frames: int = 20) -> torch.Tensor:
    # x: (B, M, T) -> a copy with one frequency band and one time span masked per clip
    x = x.clone()
    B, M, T = x.shape
    fill = x.mean()
    for b in range(B):
        f = int(torch.randint(0, max_bins + 1, (1,)))
        f0 = int(torch.randint(0, M - f + 1, (1,)))
        t = int(torch.randint(0, max_frames + 1, (1,)))
        t0 = int(torch.randint(0, T - t + 1, (1,)))
        x[b, f0:f0 + f, :] = fill
        x[b, :, t0:t0 + t] = fill
    return x

def augmented_loss(logits, targets):
    return bce_loss(logits, targets)

class Augmented(ShortChunkCNN):
    def forward(self, x):
        return super().forward(spec_augment(x) if self.training else x)

aug = Augmented(n_out=K)
train_tagger(aug, train.logmel, train.targets, EPOCHS)
s = tagging_scores(test.targets, predict(aug, test.logmel), TAGS)
print(s["roc_auc"], s["pr_auc"])
```
Masking acts as a regulariser: the network cannot rely on one narrow band (one instrument's formant) or one moment. On SynthCaps, whose clips are clean and consistent, the change is small, and with a short training budget it can even lower the scores, because the model sees harder examples for the same number of steps. It pays off with longer training or on real recordings that vary more.
:::

:::{dropdown} Solution 3: label noise
```python
noisy_root = ensure_dataset(label_noise=0.2)
noisy_train = SynthCaps(noisy_root, "train")
print("tags per clip, clean vs noisy:", train.targets.sum(1).mean().item(), noisy_train.targets.sum(1).mean().item())
noisy = ShortChunkCNN(n_out=K)
train_tagger(noisy, noisy_train.logmel, noisy_train.targets, EPOCHS)
s = tagging_scores(test.targets, predict(noisy, test.logmel), TAGS)
print(s["roc_auc"], s["pr_auc"])
```
Dropped tags turn true positives into false negatives during training. The model learns to give every tag a lower probability, but it still ranks clips with the tag above clips without it, so the ranking metrics fall only a little, ROC-AUC less than PR-AUC. The rare tags suffer most, because each dropped positive removes a large share of their few examples. This is why missing tags in crowd-sourced data, such as MagnaTagATune, are better read as "unknown" than as "absent".
:::
""")

md(r"""
## Further reading

- {cite:t}`choi2016autotagging` and {cite:t}`pons2018endtoend` for the CNN taggers this notebook simplifies, and {cite:t}`won2020evaluation` for a careful comparison of tagging architectures under one protocol, including the short-chunk ResNet.
- {cite:t}`nam2019deep` for a tutorial overview of deep learning for music classification and tagging.
- {cite:t}`choi2019zeroshot` for zero-shot tagging with word embeddings, with a study of how to split seen and unseen tags.
- {cite:t}`law2009magnatagatune` for MagnaTagATune, the benchmark most tagging papers report on.
""")

nb = nbf.v4.new_notebook()
nb.cells = cells
nb.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
               "language_info": {"name": "python"}}
nbf.write(nb, "/work/main/description/tagging.ipynb")
print(len(cells), "cells")
