"""Quick experiment loop for the generation recipe: train a flow-matching generator for a
wall-clock budget (env BUDGET seconds) or TSTEPS steps, then judge N test prompts
(PROMPT=heldout or a caption index) with the reference tagger: per-group adherence,
shuffled-prompt adherence, FAD and its floor. SHIPPED=1 judges the shipped generator; SAVE/LOAD
keep a trained model.

Training switches: STACK, CHS, CROP, BATCH, LR, BETA2, WARM (warm-up fraction), PDROP, CONDDIM;
TSTD=1 standardises the text states, WHITEN=eps ZCA-whitens them instead; PMLP=1 puts an MLP on the
pooled text, APOOL=n adds attention pooling with n learned queries, JOINT=1 uses the joint
embedding's text vector as the pooled condition, ATT0=1 adds cross-attention at the finest level;
GSKIP=1 adds a learned time-dependent per-band skip of x_t (zero at start);
PRECOND=1|2 wraps the network in EDM-style preconditioning (2: with EDM loss weighting);
TSHIFT/TMIX shift the logit-normal flow times / mix in uniform ones.
Sampler and judge switches: GUID (scales), STEPS, SMOOTH=1 ([1, 2, 1] over frames), VOC
(Griffin-Lim iterations, default 16). The sampler variants in drafts/README.md (clamping, CFG
rescale, a guidance interval, stochastic steps) were made with a modified copy of ``sample``,
since removed.
Usage: STACK=8 TSTD=1 TSTEPS=1000 PROMPT=2 VOC=8 python drafts/generation/experiment.py"""
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
        if E("GSKIP"):  # learned, time-dependent per-band skip of x_t to the output (starts at zero)
            self.gskip = torch.nn.Linear(self.cond_dim, self.config["n_mels"])
            torch.nn.init.zeros_(self.gskip.weight); torch.nn.init.zeros_(self.gskip.bias)
        if E("APOOL"):  # attention pooling: learned queries pick words from the prompt for the FiLM vector
            nq, cd = int(E("APOOL")), self.cond_dim
            self.aq = torch.nn.Parameter(0.02 * torch.randn(1, nq, cd))
            self.apool = torch.nn.MultiheadAttention(cd, 4, kdim=384, vdim=384, batch_first=True)
            self.apool_out = torch.nn.Linear(nq * cd, cd)
        if E("ATT0"):  # cross-attention at the finest level too
            from musictext.reference.generator import CrossAttention1d
            self.down_attn[0] = CrossAttention1d(self.config["channels"][0], 384, self.config["heads"])
            self.up_attn[-1] = CrossAttention1d(self.config["channels"][0], 384, self.config["heads"])
        if JOINT:
            self.joint_proj = torch.nn.Linear(joint.config["embed_dim"], self.cond_dim)
    def forward(self, x, t, keys, key_pad, pooled):
        if E("GSKIP"):
            from musictext.reference.generator import timestep_embedding
            gate = self.gskip(timestep_embedding(t, self.cond_dim))[:, :, None]       # (B, n_mels, 1)
            return super().forward(x, t, keys, key_pad, pooled) + gate * x
        if not E("PRECOND"):
            return super().forward(x, t, keys, key_pad, pooled)
        # EDM-style preconditioning for x_t = t x1 + (1 - t) eps with unit data variance:
        # x1_hat = c_skip x_t + c_out F(c_in x_t, t)
        tt = t.float()[:, None, None]
        n = (tt ** 2 + (1 - tt) ** 2).sqrt()
        return tt / n ** 2 * x + (1 - tt) / n * super().forward(x / n, t, keys, key_pad, pooled)
    def text_context(self, tokens, mask, drop=None):
        keys, pad, pooled = super().text_context(tokens, mask, drop)
        if E("APOOL"):
            a = self.apool(self.aq.expand(keys.shape[0], -1, -1), keys, keys, key_padding_mask=pad, need_weights=False)[0]
            pooled = pooled + self.apool_out(a.flatten(1))
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
    logmel = train.logmel
    def fresh_model():
        m = JUNet(channels=CHS, stack=STACK, cond_dim=int(E("CONDDIM", 128)))
        m.mel_mean.copy_(logmel.mean(dim=(0, 2))[:, None]); m.mel_std.copy_(logmel.std())
        return m
    g = seed_everything(0)
    model = fresh_model()
    fm = model.frame_multiple
    frames = -(-logmel.shape[-1] // fm) * fm
    x = model.normalise(logmel); x = F.pad(x, (0, frames - x.shape[-1]), value=float(x.min()))
    per_clip = len(train.records[0]["captions"])
    tokens, mask = caption_token_bank([c for r in train.records for c in r["captions"]])
    if E("TSTD"):  # standardise the text states inside the model (as the shipped generator does)
        valid = tokens[mask.bool()].float()
        TMU, TSD = valid.mean(0), valid.std(0).clamp(min=0.05)
    if E("WHITEN"):  # ZCA-whiten the token states with the training-token covariance (model sees them as is)
        valid = tokens[mask.bool()].float(); WMU = valid.mean(0)
        lam, Vec = torch.linalg.eigh(torch.cov((valid - WMU).T))
        WZ = Vec @ torch.diag((lam.clamp(min=0) + float(E("WHITEN")) * lam.mean()).rsqrt()) @ Vec.T
        tokens = (((tokens.float() - WMU) @ WZ) * mask[..., None]).half()
        torch.save((WMU, WZ), "/tmp/whiten.pt")
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
        if E("PRECOND") == "2" or E("TMIX") or E("TSHIFT"):
            # logit-normal(TSHIFT, 1) flow times, mixed with uniform ones (TMIX); PRECOND=2 adds the EDM
            # weighting, which gives the preconditioned network a unit-variance target at every t
            B = xb.shape[0]
            t = torch.sigmoid(torch.randn(B, generator=g) + float(E("TSHIFT", 0)))
            if E("TMIX") or E("TSHIFT"):
                uni = torch.rand(B, generator=g) < float(E("TMIX", 0))
                t = torch.where(uni, torch.rand(B, generator=g), t)
            eps = torch.randn(xb.shape, generator=g); tt = t[:, None, None]; xt = tt * xb + (1 - tt) * eps
            keys, pad, pooled = model.text_context(tokens[cap].float(), mask[cap], torch.rand(B, generator=g) < PDROP)
            w = (tt ** 2 + (1 - tt) ** 2) / (1 - tt) ** 2 if E("PRECOND") == "2" else 1.0
            loss = (w * (model(xt, t, keys, pad, pooled) - xb) ** 2).mean()
        else:
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
    g = seed_everything(0); model = fresh_model()
    if E("TSTD"): model.text_mean.copy_(TMU); model.text_std.copy_(TSD)
    ema = copy.deepcopy(model).eval()
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=1e-4, foreach=True, betas=(0.9, float(E("BETA2", 0.999))))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=LR, total_steps=steps, pct_start=float(E("WARM", 0.05)))
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
if E("WHITEN"):
    WMU, WZ = torch.load("/tmp/whiten.pt"); tok = ((tok.float() - WMU) @ WZ) * msk[..., None]
lm = LogMel()
def voc(l): return lm(mel_to_audio(l, n_iter=int(E('VOC', 16)), length=312 * 256))
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
    if E("SMOOTH"):  # diagnostic: [1, 2, 1] / 4 smoothing over frames
        gen = torch.cat([gen[..., :1], (gen[..., :-2] + 2 * gen[..., 1:-1] + gen[..., 2:]) / 4, gen[..., -1:]], -1)
    pg = tag_probabilities(tg, voc(gen))
    h = N // 2
    print(f"w={w}", 'gen', adh(pg['probabilities'], tags), 'shuf', adh(pg['probabilities'], [tags[j] for j in perm])['all'],
          'fad', round(float(frechet_distance(pg['embedding'][:h], pr['embedding'][h:])), 2), 'floor', round(float(frechet_distance(pr['embedding'][:h], pr['embedding'][h:])), 2), flush=True)
print("eval wall", time.time() - t0)
