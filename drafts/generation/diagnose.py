"""Diagnostics for generators saved by experiment.py (SAVE=path), on the same 100 test captions.

MODE=sdedit (default): noise the real clips to flow time t0 (T0S, e.g. "0.2,0.4,0.6,0.9"), run the
  guided sampler (W, default 5) from there to t = 1, and judge. How much of the real clips' tagged
  content survives tells where in the trajectory the generator loses it.
MODE=switch: sample with the model EARLY for t < each of SW ("0.5,0.7,0.9") and with LOAD after.
MODE=pca: how much the tagger still hears after keeping K (KS, e.g. "16,32,48") principal
  components of each 8-frame block of the real clips (no generator needed).
Usage: LOAD=/tmp/gen.pt MODE=sdedit T0S=0.3,0.9 python drafts/generation/diagnose.py"""
import os, sys, torch, torch.nn.functional as F
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))
torch.set_num_threads(2)
# the pickled models were saved from experiment.py run as a script: define its JUNet here as __main__.JUNet
_src = open(os.path.join(HERE, "experiment.py")).read().split("root = ensure_dataset()")[0]
exec(compile(_src, os.path.join(HERE, "experiment.py"), "exec"))
from musictext.reference.generator import guided_prediction  # noqa: E402

E = os.environ.get
root = ensure_dataset(); train, test = SynthCaps(root, "train"), SynthCaps(root, "test")
N = 100
idx = torch.randperm(400, generator=torch.Generator().manual_seed(0))[:N]
prompts = [test.records[i]["captions"][2] for i in idx]
tok, msk = encode_prompts(prompts); tags = [tags_in_text(p) for p in prompts]
lm, tg = LogMel(), load_reference_tagger()


def judge(logmel):
    """Log-mels -> 8 Griffin-Lim iterations -> the tagger's adherence to the prompts (experiment.py's adh)."""
    return adh(tag_probabilities(tg, lm(mel_to_audio(logmel, n_iter=8, length=312 * 256)))["probabilities"], tags)


def pad(v, frames=320):
    return F.pad(v, (0, frames - v.shape[-1]), value=float(train.logmel.min()))


@torch.no_grad()
def integrate(x, t0, w, model_at, steps=16):
    """Guided Euler steps from flow time t0 to 1; model_at(t) picks the network for each step."""
    B = x.shape[0]
    ctx = {}
    ts = torch.linspace(t0, 1.0, max(2, int(round(steps * (1 - t0)))) + 1)
    for i in range(len(ts) - 1):
        t, tn = float(ts[i]), float(ts[i + 1]); m = model_at(t)
        if id(m) not in ctx:
            (kc, pc, qc), (ku, pu, qu) = m.text_context(tok, msk), m.text_context(tok, msk, torch.ones(B, dtype=torch.bool))
            ctx[id(m)] = (torch.cat([kc, ku]), torch.cat([pc, pu]), torch.cat([qc, qu]))
        c, u = m(torch.cat([x, x]), torch.full((2 * B,), t), *ctx[id(m)]).chunk(2)
        x = x + (tn - t) / (1 - t) * (guided_prediction(c, u, w) - x)
    return x


MODE, W = E("MODE", "sdedit"), float(E("W", 5))
print("real", judge(test.logmel[idx]))
if MODE == "pca":
    S = 8
    hb = blocks(pad(train.logmel), S); flat = hb.permute(0, 2, 1).reshape(-1, hb.shape[1]); mu = flat.mean(0)
    lam, V = torch.linalg.eigh(torch.cov((flat - mu).T)); V, lam = V.flip(1), lam.flip(0)
    rb = blocks(pad(test.logmel[idx]), S) - mu[None, :, None]
    for K in [int(k) for k in E("KS", "16,32,48").split(",")]:
        Vk = V[:, :K]
        rec = unblocks(torch.einsum("bcp,ck,dk->bdp", rb, Vk, Vk) + mu[None, :, None], S)[..., :313]
        print(f"K={K} variance kept {float(lam[:K].sum() / lam.sum()):.3f}", judge(rec), flush=True)
else:
    model = torch.load(E("LOAD"), weights_only=False).eval()   # a local file this script's user saved
    real = model.normalise(pad(test.logmel[idx]))
    if MODE == "sdedit":
        gen = torch.Generator().manual_seed(0)
        for t0 in [float(v) for v in E("T0S", "0.2,0.4,0.6,0.9").split(",")]:
            xt = t0 * real + (1 - t0) * torch.randn(real.shape, generator=gen)
            out = integrate(xt, t0, W, lambda t: model)
            print(f"sdedit t0={t0} w={W}", judge(model.denormalise(out)[..., :313]), flush=True)
    elif MODE == "switch":
        early = torch.load(E("EARLY"), weights_only=False).eval()
        for sw in [float(v) for v in E("SW", "0.5,0.7,0.9").split(",")]:
            x0 = torch.randn(real.shape, generator=torch.Generator().manual_seed(0))
            out = integrate(x0, 0.0, W, lambda t: early if t < sw else model)
            print(f"switch at t={sw} w={W}", judge(model.denormalise(out)[..., :313]), flush=True)
