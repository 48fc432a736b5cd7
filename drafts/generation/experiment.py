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
VPRED=1 predicts the velocity (loss in velocity units, an exact skip of x_t);
TSHIFT/TMIX shift the logit-normal flow times / mix in uniform ones.
LATENT=K trains on the top K principal components of each STACK-frame block (a linear latent; the UNet
then runs with stack 1), LWHITE=p divides component k by its standard deviation to the power p;
FRES=C adds a full-resolution level (C channels, one frame per position) around the stacked UNet;
SELFC=1 adds self-conditioning (the previous clean-signal estimate as a second input; SCBRANCH=1 keeps
one estimate per guidance branch); PSTD=1 standardises the pooled text vector per dimension;
AUDCOND=p adds a joint-embedding vector to the FiLM condition: the clip's audio embedding with
probability p in training, else its caption's text embedding; the prompt's text embedding at sampling;
SLIM=1 keeps one residual block per level on each side; POSENC=n feeds n sinusoidal clocks of the
frame index (periods 4 to 512 frames) to the input layer;
REPA=lam adds lam x (1 - cosine) between a projection of the UNet bottleneck and the reference joint
audio tower's last feature map of the clean clip (representation alignment);
GATE=1 lets FiLM gate each residual branch (adaLN-Zero style: modulation and attention outputs
start at zero);
K1=1 gives the input and output convolutions kernel 1; FUSED=1 uses the fused AdamW kernel (about 12% faster a step on 2 cores);
SNAP=a,b saves the EMA weights at those steps to /tmp/snap_<step>.pt.
Sampler and judge switches: GUID (scales), RERANK=n (best of n candidates by the joint embedding), STEPS, SMOOTH=1 ([1, 2, 1] over frames), VOC
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
def blocks(v, s):
    """(B, M, T) -> (B, M*s, T/s): s frames per position, the layout GeneratorUNet.forward stacks in."""
    B, M, T = v.shape
    return v.reshape(B, M, T // s, s).permute(0, 1, 3, 2).reshape(B, M * s, T // s)
def unblocks(h, s):
    """Inverse of blocks: (B, M*s, P) -> (B, M, P*s)."""
    B, C, P = h.shape
    return h.reshape(B, C // s, s, P).permute(0, 1, 3, 2).reshape(B, C // s, P * s)
def pca_decode(z, pca):
    """Latent (B, K, P) -> log-mel (B, n_mels, P*stack) for pca = (mean, basis, scale, stack, mel mean, mel std)."""
    mu, basis, scale, st, mel_mu, mel_sd = pca
    return unblocks(torch.einsum("bkp,ck->bcp", z * scale[None, :, None], basis) + mu[None, :, None], st) * mel_sd + mel_mu
class SCInp(torch.nn.Module):  # the input conv sees [stacked x_t, stacked previous estimate]
    def __init__(self, conv): super().__init__(); self.conv, self.sc = conv, None
    def forward(self, h): return self.conv(torch.cat([h, self.sc if self.sc is not None else torch.zeros_like(h)], 1))
class PEInp(torch.nn.Module):  # the input conv also sees a clock: sinusoids of the frame index
    def __init__(self, conv, n_per, stack):
        super().__init__(); self.conv, self.stack = conv, stack
        self.register_buffer("periods", torch.logspace(np.log10(4), np.log10(512), n_per))
    def forward(self, h):
        B, C, P = h.shape; T = P * self.stack
        ang = 2 * np.pi * torch.arange(T, dtype=torch.float32)[None, :] / self.periods[:, None]
        clk = torch.cat([ang.sin(), ang.cos()])                                   # (2 n_per, T)
        clk = blocks(clk[None], self.stack)
        return self.conv(torch.cat([h, clk.expand(B, -1, -1)], 1))
def keep_output(mod, inp, out):
    """Forward hook: keep the module's output for an auxiliary loss."""
    mod._kept = out
def gated_res_forward(self, x, cond):
    """ResBlock1d with adaLN-Zero-style modulation: scale, shift and a gate from the condition."""
    h = self.c1(F.silu(self.n1(x)))
    scale, shift, gate = self.film(cond).unsqueeze(-1).chunk(3, dim=1)
    h = self.c2(F.silu(self.n2(h) * (1 + scale) + shift))
    return self.skip(x) + gate * h
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
        if E("FRES"):  # a full-resolution level (one frame per position) around the stacked UNet
            from musictext.reference.generator import ResBlock1d
            C, st, n_m = int(E("FRES")), self.stack, self.config["n_mels"]
            self.f_in = torch.nn.Conv1d(n_m, C, 3, padding=1)
            self.f_down = ResBlock1d(C, C, self.cond_dim)
            self.inp = torch.nn.Conv1d(C * st, self.config["channels"][0], 3, padding=1)
            self.out = torch.nn.Conv1d(self.config["channels"][0], C * st, 3, padding=1)
            self.f_up = ResBlock1d(2 * C, C, self.cond_dim)
            self.f_norm = torch.nn.GroupNorm(8, C)
            self.f_out = torch.nn.Conv1d(C, n_m, 3, padding=1)
        if E("SELFC"):  # self-conditioning: the previous clean-signal estimate is a second input
            self.inp = SCInp(torch.nn.Conv1d(2 * self.config["n_mels"] * self.stack, self.config["channels"][0], 3, padding=1))
            self._sc = None
        if E("POSENC"):
            npr = int(E("POSENC"))
            self.inp = PEInp(torch.nn.Conv1d((self.config["n_mels"] + 2 * npr) * self.stack, self.config["channels"][0], 3, padding=1), npr, self.stack)
        if E("SLIM"):  # one residual block per level on each side instead of two
            for i in range(len(self.down)):
                self.down[i] = torch.nn.ModuleList([self.down[i][0]])
                self.up[i] = torch.nn.ModuleList([self.up[i][0]])
        if E("K1"):  # input and output convolutions of kernel 1 (one stacked block each)
            C0, MS = self.config["channels"][0], self.config["n_mels"] * self.stack
            self.inp, self.out = torch.nn.Conv1d(MS, C0, 1), torch.nn.Conv1d(C0, MS, 1)
        if E("GATE"):  # adaLN-Zero style: FiLM also gates each residual branch, h = skip(x) + g * branch
            import types
            from musictext.reference.generator import ResBlock1d, CrossAttention1d, SelfAttention1d
            for mod in self.modules():
                if isinstance(mod, ResBlock1d):
                    mod.film = torch.nn.Linear(self.cond_dim, 3 * mod.c2.out_channels)
                    torch.nn.init.zeros_(mod.film.weight); torch.nn.init.zeros_(mod.film.bias)
                    mod.forward = types.MethodType(gated_res_forward, mod)
                elif isinstance(mod, (CrossAttention1d, SelfAttention1d)):
                    torch.nn.init.zeros_(mod.attn.out_proj.weight); torch.nn.init.zeros_(mod.attn.out_proj.bias)
        if E("AUDCOND"):  # AudioLDM-style: FiLM also sees a joint-embedding vector (audio in training, text at sampling)
            self.jv_proj = torch.nn.Linear(joint.config["embed_dim"], self.cond_dim)
            self._jvec = None
        if E("REPA"):  # representation alignment: a head maps the bottleneck to the joint audio tower's features
            C = self.config["channels"][-1]
            self.repa_head = torch.nn.Sequential(torch.nn.Conv1d(C, 256, 1), torch.nn.SiLU(), torch.nn.Conv1d(256, joint.config["channels"][-1], 1))
            self.mid2._kept = None
            self.mid2.register_forward_hook(keep_output)
        if JOINT:
            self.joint_proj = torch.nn.Linear(joint.config["embed_dim"], self.cond_dim)
    def forward(self, x, t, keys, key_pad, pooled):
        from musictext.reference.generator import timestep_embedding
        if hasattr(self, "_sc"):   # SCInp reads the stacked previous estimate during this call
            self.inp.sc = None if self._sc is None else blocks(self._sc, self.stack)
        if hasattr(self, "f_in"):
            cond = self.t_mlp(timestep_embedding(t, self.cond_dim)) + pooled
            h0 = self.f_down(self.f_in(x), cond)
            h = self.f_up(torch.cat([super().forward(h0, t, keys, key_pad, pooled), h0], 1), cond)
            out = self.f_out(F.silu(self.f_norm(h)))
        elif E("PRECOND"):
            # EDM-style preconditioning for x_t = t x1 + (1 - t) eps with unit data variance:
            # x1_hat = c_skip x_t + c_out F(c_in x_t, t)
            tt = t.float()[:, None, None]
            n = (tt ** 2 + (1 - tt) ** 2).sqrt()
            out = tt / n ** 2 * x + (1 - tt) / n * super().forward(x / n, t, keys, key_pad, pooled)
        elif E("VPRED"):  # the network predicts the velocity v = x1 - eps; x1_hat = x_t + (1 - t) v_hat
            out = x + (1 - t.float()[:, None, None]) * super().forward(x, t, keys, key_pad, pooled)
        else:
            out = super().forward(x, t, keys, key_pad, pooled)
        if hasattr(self, "_sc"):
            self.inp.sc = None
        if hasattr(self, "gskip"):
            out = out + self.gskip(timestep_embedding(t, self.cond_dim))[:, :, None] * x   # (B, n_mels, 1) gate
        return out
    def text_context(self, tokens, mask, drop=None):
        if hasattr(self, "p_mu"):  # standardise the pooled text vector per dimension before its projection
            B = tokens.shape[0]; mk = mask.bool().clone()
            tk = (tokens.float() - self.text_mean) / self.text_std * mk.unsqueeze(-1)
            if drop is not None: mk[drop] = False
            keys = torch.cat([self.null_text.expand(B, 1, -1), tk], 1)
            visible = torch.cat([torch.ones(B, 1, dtype=torch.bool), mk], 1)
            mm = mk.unsqueeze(-1).float(); pv = (tk * mm).sum(1) / mm.sum(1).clamp(min=1.0)
            pv = torch.where(mm.sum(1) > 0, (pv - self.p_mu) / self.p_sd, torch.zeros_like(pv))
            return keys, ~visible, self.pool_proj(pv)
        keys, pad, pooled = super().text_context(tokens, mask, drop)
        if E("APOOL"):
            a = self.apool(self.aq.expand(keys.shape[0], -1, -1), keys, keys, key_padding_mask=pad, need_weights=False)[0]
            pooled = pooled + self.apool_out(a.flatten(1))
        if getattr(self, "_jvec", None) is not None:
            jv = self._jvec if drop is None else self._jvec * (~drop).float()[:, None]
            pooled = pooled + self.jv_proj(jv)
        if JOINT:
            m = mask.bool().unsqueeze(-1).to(tokens.dtype)
            sent = F.normalize((tokens * m).sum(1) / m.sum(1).clamp(min=1.0), dim=-1)
            with torch.no_grad():
                v = joint.text_from_sentence(sent.float())
            if drop is not None:
                v = v * (~drop).float()[:, None]
            pooled = self.joint_proj(v)
        return keys, pad, pooled
def adh(p, tags):
    """Tag probabilities (N, n_tags) and the prompts' tag sets -> accuracy per attribute group and their mean."""
    out = {}
    for grp in ["instrument", "genre", "tempo", "mood"]:
        cols = [TAGS.index(t) for t in TAG_GROUPS[grp]]; best = [TAG_GROUPS[grp][j] for j in p[:, cols].argmax(1).tolist()]
        out[grp] = round(float(np.mean([b in t for b, t in zip(best, tags)])), 3)
    out['all'] = round(float(np.mean(list(out.values()))), 3); return out
root = ensure_dataset(); train, test = SynthCaps(root, "train"), SynthCaps(root, "test")
if E("SHIPPED"):
    model = load_reference_generator()
elif E("LOAD"):
    model = torch.load(E("LOAD"), weights_only=False)
else:
    logmel = train.logmel
    LAT = int(E("LATENT", 0))  # PCA latent: LAT components per STACK-frame block, the UNet runs with stack 1
    def fresh_model():
        if LAT:
            return JUNet(n_mels=LAT, channels=CHS, stack=1, cond_dim=int(E("CONDDIM", 128)))
        m = JUNet(channels=CHS, stack=STACK, cond_dim=int(E("CONDDIM", 128)))
        m.mel_mean.copy_(MMU); m.mel_std.copy_(MSD)
        return m
    MMU, MSD = logmel.mean(dim=(0, 2))[:, None], logmel.std()
    g = seed_everything(0)
    model = fresh_model()
    fm = model.frame_multiple * (STACK if LAT else 1)
    frames = -(-logmel.shape[-1] // fm) * fm
    x = (logmel - MMU) / MSD; x = F.pad(x, (0, frames - x.shape[-1]), value=float(x.min()))
    if LAT:
        hb = blocks(x, STACK); flat = hb.permute(0, 2, 1).reshape(-1, hb.shape[1])
        PMU = flat.mean(0); lam, Vec = torch.linalg.eigh(torch.cov((flat - PMU).T))
        Vec, lam = Vec[:, -LAT:].flip(1), lam[-LAT:].flip(0)
        scale = lam.clamp(min=1e-6).sqrt() ** float(E("LWHITE", 0))
        z = torch.einsum("bcp,ck->bkp", hb - PMU[None, :, None], Vec) / scale[None, :, None]
        ZSD = z.std()
        PCA = (PMU, Vec, scale * ZSD, STACK, MMU, MSD)
        recon = (pca_decode(z / ZSD, PCA) - MMU) / MSD
        print("latent", tuple(z.shape), "recon err", float(((recon - x) ** 2).mean()), flush=True)
        x = z / ZSD
    per_clip = len(train.records[0]["captions"])
    train_caps = [c for r in train.records for c in r["captions"]]                     # clip-major, per_clip each
    tokens, mask = caption_token_bank(train_caps)
    if E("REPA"):  # the joint audio tower's last feature map of every training clip (320 frames -> 10 positions)
        with torch.no_grad():
            raw = F.pad(logmel, (0, frames - logmel.shape[-1]), value=float(logmel.min()))
            JF = torch.cat([joint.audio.blocks(F.avg_pool1d(joint.audio.norm(raw[i:i + 256]), joint.audio.time_pool))
                            for i in range(0, len(raw), 256)])
        print("joint features", tuple(JF.shape), flush=True)
    if E("AUDCOND"):
        with torch.no_grad():
            AEMB = joint.embed_audio(logmel)                                               # (N_train, d)
            TEMB = torch.cat([joint.embed_text(train_caps[i:i + 512]) for i in range(0, len(train_caps), 512)])
        print("joint audio/text cos on own captions", float((AEMB.repeat_interleave(per_clip, 0) * TEMB).sum(1).mean()), flush=True)
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
        if E("AUDCOND"):  # audio embedding with probability AUDCOND, else the caption's joint text embedding
            use_a = (torch.rand(BATCH, generator=g) < float(E("AUDCOND")))[:, None]
            model._jvec = torch.where(use_a, AEMB[idx], TEMB[cap])
        if CROP:
            s = int(torch.randint(0, (x.shape[-1] - CROP) // fm + 1, (1,), generator=g)) * fm
            xb = xb[..., s:s + CROP]
        if E("SELFC") or E("PRECOND") == "2" or E("TMIX") or E("TSHIFT") or E("VPRED"):
            # logit-normal(TSHIFT, 1) flow times, mixed with uniform ones (TMIX); PRECOND=2 adds the EDM
            # weighting, which gives the preconditioned network a unit-variance target at every t;
            # SELFC feeds half the batch the network's own first estimate as a second input
            B = xb.shape[0]
            t = torch.sigmoid(torch.randn(B, generator=g) + float(E("TSHIFT", 0)))
            if E("TMIX") or E("TSHIFT"):
                uni = torch.rand(B, generator=g) < float(E("TMIX", 0))
                t = torch.where(uni, torch.rand(B, generator=g), t)
            eps = torch.randn(xb.shape, generator=g); tt = t[:, None, None]; xt = tt * xb + (1 - tt) * eps
            keys, pad, pooled = model.text_context(tokens[cap].float(), mask[cap], torch.rand(B, generator=g) < PDROP)
            if E("SELFC"):
                use = torch.rand(B, generator=g) < 0.5
                model._sc = None
                if use.any():
                    with torch.no_grad():
                        model._sc = model(xt, t, keys, pad, pooled) * use[:, None, None].float()
            w = (tt ** 2 + (1 - tt) ** 2) / (1 - tt) ** 2 if E("PRECOND") == "2" else 1 / (1 - tt) ** 2 if E("VPRED") else 1.0
            loss = (w * (model(xt, t, keys, pad, pooled) - xb) ** 2).mean()
            if E("SELFC"): model._sc = None
        else:
            loss = flow_matching_loss(model, xb, tokens[cap].float(), mask[cap], PDROP, g)
        if E("REPA"):  # 1 - cosine between the projected bottleneck and the clean clip's joint features, per position
            loss = loss + float(E("REPA")) * (1 - F.cosine_similarity(model.repa_head(model.mid2._kept), JF[idx], dim=1)).mean()
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
    if E("PSTD"):
        tk_ = (tokens.float() - TMU) / TSD * mask[..., None]; pv_ = tk_.sum(1) / mask.sum(1, keepdim=True)
        model.register_buffer("p_mu", pv_.mean(0)); model.register_buffer("p_sd", pv_.std(0).clamp(min=0.05))
    ema = copy.deepcopy(model).eval()
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=1e-4, betas=(0.9, float(E("BETA2", 0.999))),
                            **({"fused": True} if E("FUSED") else {"foreach": True}))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=LR, total_steps=steps, pct_start=float(E("WARM", 0.05)))
    t0 = time.time(); L = []
    for step in range(1, steps + 1):
        L.append(one(step, sched))
        d = min(0.999, step / (step + 10))
        with torch.no_grad():
            for pe, pm in zip(ema.parameters(), model.parameters()): pe.lerp_(pm, 1 - d)
        if str(step) in E("SNAP", "").split(","): torch.save(ema, f"/tmp/snap_{step}.pt")  # earlier EMA weights
        if step % max(steps // 5, 1) == 0: print(step, np.mean(L[-50:]), round(time.time() - t0), flush=True)
    print("train wall", time.time() - t0)
    if LAT: ema.pca = PCA
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
print('real', adh(pr['probabilities'], tags))
@torch.no_grad()
def sample_sc(tk, mk, frames, steps, guidance, generator):
    """Guided Euler sampler that feeds the previous estimate back (SELFC; SCBRANCH: one per branch)."""
    from musictext.reference.generator import guided_prediction
    B = tk.shape[0]; x = torch.randn(B, 64, frames, generator=generator)
    kc, pc, qc = model.text_context(tk, mk); ku, pu, qu = model.text_context(tk, mk, torch.ones(B, dtype=torch.bool))
    keys, pad, pooled = torch.cat([kc, ku]), torch.cat([pc, pu]), torch.cat([qc, qu])
    ts = torch.linspace(0.0, 1.0, steps + 1); model._sc = None
    for i in range(steps):
        t, tn = float(ts[i]), float(ts[i + 1])
        both = model(torch.cat([x, x]), torch.full((2 * B,), t), keys, pad, pooled)
        guided = guided_prediction(*both.chunk(2), guidance)
        model._sc = both if E("SCBRANCH") else guided.repeat(2, 1, 1)
        x = x + (tn - t) / (1.0 - t) * (guided - x)
    model._sc = None
    return x
def sample_all(w, gg):
    """One clip per prompt with the plain guided sampler, 50 prompts at a time -> log-mels (N, 64, 313)."""
    xs = []
    for i in range(0, N, 50):
        if hasattr(model, "jv_proj"): model._jvec = joint.embed_text(prompts[i:i + 50])   # AUDCOND
        xs.append(sample(model, tok[i:i+50], msk[i:i+50], 320, steps=STEPS, guidance=w, generator=gg))
    return model.denormalise(torch.cat(xs))[..., :313]
for w in GUID:
    gg = torch.Generator().manual_seed(0)
    if getattr(model, "pca", None) is not None:
        zs = torch.cat([sample(model, tok[i:i+50], msk[i:i+50], 320 // model.pca[3], steps=STEPS, guidance=w, generator=gg) for i in range(0, N, 50)])
        gen = pca_decode(zs, model.pca)[..., :313]
    elif hasattr(model, "_sc"):
        xs = torch.cat([sample_sc(tok[i:i+50], msk[i:i+50], 320, STEPS, w, gg) for i in range(0, N, 50)])
        gen = model.denormalise(xs)[..., :313]
    elif E("RERANK"):  # best of n candidates per prompt by the joint embedding's text-audio cosine
        n_c = int(E("RERANK")); temb = joint.embed_text(prompts)
        cands = [sample_all(w, gg) for _ in range(n_c)]
        score = torch.stack([(joint.embed_audio(c) * temb).sum(1) for c in cands])      # (n_c, N)
        pick = score.argmax(0)
        print(f"w={w} first candidate", adh(tag_probabilities(tg, voc(cands[0]))['probabilities'], tags),
              "cos first / best", round(float(score[0].mean()), 3), round(float(score.max(0).values.mean()), 3), flush=True)
        gen = torch.stack([cands[int(pick[i])][i] for i in range(N)])
    else:
        gen = sample_all(w, gg)
    if E("SMOOTH"):  # diagnostic: [1, 2, 1] / 4 smoothing over frames
        gen = torch.cat([gen[..., :1], (gen[..., :-2] + 2 * gen[..., 1:-1] + gen[..., 2:]) / 4, gen[..., -1:]], -1)
    pg = tag_probabilities(tg, voc(gen))
    h = N // 2
    print(f"w={w}", 'gen', adh(pg['probabilities'], tags), 'shuf', adh(pg['probabilities'], [tags[j] for j in perm])['all'],
          'fad', round(float(frechet_distance(pg['embedding'][:h], pr['embedding'][h:])), 2), 'floor', round(float(frechet_distance(pr['embedding'][:h], pr['embedding'][h:])), 2), flush=True)
print("eval wall", time.time() - t0)
