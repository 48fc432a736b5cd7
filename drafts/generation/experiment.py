"""Quick experiment loop for the generation recipe: train a flow-matching generator for a
wall-clock budget (env BUDGET seconds; STACK, CHS, CROP, BATCH, LR, PDROP, JOINT=1 for the joint
text vector as the pooled condition, TSTD=1 to standardise the text states, PMLP=1 for an MLP on
the pooled text, TSTEPS for a fixed step count, SAVE/LOAD a trained model) and judge N test prompts (PROMPT=heldout or a caption index)
with the reference tagger: per-group adherence, shuffled-prompt adherence, FAD and its floor.
Usage: STACK=8 PROMPT=2 BUDGET=280 python drafts/generation/experiment.py"""
import os, sys, time, copy, numpy as np, torch, torch.nn.functional as F
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[2]))
torch.set_num_threads(2)
from musictext.data import ensure_dataset, SynthCaps, TAG_GROUPS, TAGS, tags_in_text
from musictext.reference.generator import GeneratorUNet, flow_matching_loss, sample, mel_to_audio, caption_token_bank, encode_prompts, load_reference_generator
from musictext.models import load_reference_tagger, tag_probabilities
from musictext.audio import LogMel
from musictext.metrics import frechet_distance
from musictext.train import seed_everything
E = os.environ.get
CROP = int(E("CROP", 0)); BATCH = int(E("BATCH", 16)); LR = float(E("LR", 1.5e-3)); BUDGET = float(E("BUDGET", 280))
CHS = tuple(int(c) for c in E("CHS", "128,160,192").split(",")); STACK = int(E("STACK", 4)); PDROP = float(E("PDROP", 0.15))
N = int(E("N", 100)); GUID = [float(g) for g in E("GUID", "3,5").split(",")]; STEPS = int(E("STEPS", 16))
from musictext.models import load_reference_joint
joint = load_reference_joint()
JOINT = bool(E("JOINT"))
class JUNet(GeneratorUNet):
    def __init__(self, **kw):
        super().__init__(**kw)
        if E("PMLP"):
            self.pool_proj = torch.nn.Sequential(torch.nn.Linear(384, self.cond_dim), torch.nn.SiLU(), torch.nn.Linear(self.cond_dim, self.cond_dim))
        if JOINT:
            self.joint_proj = torch.nn.Linear(joint.config["embed_dim"], self.cond_dim)
    def text_context(self, tokens, mask, drop=None):
        keys, pad, pooled = super().text_context(tokens, mask, drop)
        if JOINT:
            m = mask.bool().unsqueeze(-1).to(tokens.dtype)
            sent = F.normalize((tokens * m).sum(1) / m.sum(1).clamp(min=1.0), dim=-1)
            with torch.no_grad():
                v = joint.text_from_sentence(sent.float())
            if drop is not None:
                v = v * (~drop).float()[:, None]
            pooled = self.joint_proj(v)
        return keys, pad, pooled
root = ensure_dataset(); train, test = SynthCaps(root, "train"), SynthCaps(root, "test")
if E("SHIPPED"):
    model = load_reference_generator()
elif E("LOAD"):
    model = torch.load(E("LOAD"), weights_only=False)
else:
    g = seed_everything(0)
    model = JUNet(channels=CHS, stack=STACK)
    logmel = train.logmel
    model.mel_mean.copy_(logmel.mean(dim=(0, 2))[:, None]); model.mel_std.copy_(logmel.std())
    fm = model.frame_multiple
    frames = -(-logmel.shape[-1] // fm) * fm
    x = model.normalise(logmel); x = F.pad(x, (0, frames - x.shape[-1]), value=float(x.min()))
    per_clip = len(train.records[0]["captions"])
    tokens, mask = caption_token_bank([c for r in train.records for c in r["captions"]])
    if E("TSTD"):  # standardise the text states inside the model (as the shipped generator does)
        valid = tokens[mask.bool()].float()
        TMU, TSD = valid.mean(0), valid.std(0).clamp(min=0.05)
    ema = copy.deepcopy(model).eval()
    # estimate steps from a timing probe
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=1e-4)
    def one(step, sched=None):
        model.train()
        idx = torch.randint(0, len(x), (BATCH,), generator=g)
        cap = idx * per_clip + torch.randint(0, per_clip, (BATCH,), generator=g)
        xb = x[idx]
        if CROP:
            s = int(torch.randint(0, (x.shape[-1] - CROP) // fm + 1, (1,), generator=g)) * fm
            xb = xb[..., s:s + CROP]
        loss = flow_matching_loss(model, xb, tokens[cap].float(), mask[cap], PDROP, g)
        opt.zero_grad(set_to_none=True); loss.backward(); torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0); opt.step()
        if sched: sched.step()
        return float(loss.detach())
    t0 = time.time()
    n_probe = 10
    for i in range(n_probe): one(i)
    per = (time.time() - t0) / n_probe
    steps = int(E("TSTEPS", 0)) or int(BUDGET / per)
    print(f"per step {per:.3f}s -> {steps} steps", flush=True)
    # restart cleanly
    g = seed_everything(0); model = JUNet(channels=CHS, stack=STACK)
    if E("TSTD"): model.text_mean.copy_(TMU); model.text_std.copy_(TSD)
    model.mel_mean.copy_(logmel.mean(dim=(0, 2))[:, None]); model.mel_std.copy_(logmel.std())
    ema = copy.deepcopy(model).eval()
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=1e-4, foreach=True)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=LR, total_steps=steps, pct_start=0.05)
    t0 = time.time(); L = []
    for step in range(1, steps + 1):
        L.append(one(step, sched))
        d = min(0.999, step / (step + 10))
        with torch.no_grad():
            for pe, pm in zip(ema.parameters(), model.parameters()): pe.lerp_(pm, 1 - d)
        if step % (steps // 5) == 0: print(step, np.mean(L[-50:]), round(time.time() - t0), flush=True)
    print("train wall", time.time() - t0)
    model = ema
    if E("SAVE"): torch.save(model, E("SAVE"))
t0 = time.time()
idx = torch.randperm(400, generator=torch.Generator().manual_seed(0))[:N]
PK = E('PROMPT', 'heldout')
prompts = [test.records[i]['heldout_captions'][0] if PK == 'heldout' else test.records[i]['captions'][int(PK)] for i in idx]
tok, msk = encode_prompts(prompts)
lm = LogMel()
def voc(l): return lm(mel_to_audio(l, n_iter=16, length=312 * 256))
tg = load_reference_tagger()
pr = tag_probabilities(tg, voc(test.logmel[idx]))
tags = [tags_in_text(p) for p in prompts]; perm = torch.randperm(N, generator=torch.Generator().manual_seed(1)).tolist()
def adh(p, tags):
    out = {}
    for grp in ["instrument", "genre", "tempo", "mood"]:
        cols = [TAGS.index(t) for t in TAG_GROUPS[grp]]; best = [TAG_GROUPS[grp][j] for j in p[:, cols].argmax(1).tolist()]
        out[grp] = round(float(np.mean([b in t for b, t in zip(best, tags)])), 3)
    out['all'] = round(float(np.mean(list(out.values()))), 3); return out
print('real', adh(pr['probabilities'], tags))
for w in GUID:
    gg = torch.Generator().manual_seed(0)
    xs = torch.cat([sample(model, tok[i:i+50], msk[i:i+50], 320, steps=STEPS, guidance=w, generator=gg) for i in range(0, N, 50)])
    gen = model.denormalise(xs)[..., :313]
    pg = tag_probabilities(tg, voc(gen))
    h = N // 2
    print(f"w={w}", 'gen', adh(pg['probabilities'], tags), 'shuf', adh(pg['probabilities'], [tags[j] for j in perm])['all'],
          'fad', round(float(frechet_distance(pg['embedding'][:h], pr['embedding'][h:])), 2), 'floor', round(float(frechet_distance(pr['embedding'][:h], pr['embedding'][h:])), 2), flush=True)
print("eval wall", time.time() - t0)
