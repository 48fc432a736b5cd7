import torch, numpy as np, time
torch.set_num_threads(2)
from musictext.data import ensure_dataset, SynthCaps, TAG_GROUPS, TAGS, tags_in_text
from musictext.reference.generator import load_reference_generator, sample, encode_prompts, mel_to_audio
from musictext.models import load_reference_tagger, tag_probabilities
from musictext.audio import LogMel
from musictext.metrics import frechet_distance
t0=time.process_time()
test = SynthCaps(ensure_dataset(), 'test')
N=120
idx = torch.randperm(400, generator=torch.Generator().manual_seed(0))[:N]
prompts=[test.records[i]['heldout_captions'][0] for i in idx]
m = load_reference_generator(None)
tok, mask = encode_prompts(prompts)
g=torch.Generator().manual_seed(0)
x = torch.cat([sample(m, tok[i:i+40], mask[i:i+40], 320, steps=16, guidance=3.0, generator=g) for i in range(0,N,40)])
gen = m.denormalise(x)[..., :313]
lm = LogMel()
def voc(l): return lm(mel_to_audio(l, n_iter=16, length=312*256))
tg = load_reference_tagger()
pg = tag_probabilities(tg, voc(gen)); pr = tag_probabilities(tg, voc(test.logmel[idx]))
tags=[tags_in_text(p) for p in prompts]; perm=torch.randperm(N, generator=torch.Generator().manual_seed(1)).tolist()
def adh(p, tags):
    out={}
    for grp in ["instrument","genre","tempo","mood"]:
        cols=[TAGS.index(t) for t in TAG_GROUPS[grp]]; best=[TAG_GROUPS[grp][j] for j in p[:,cols].argmax(1).tolist()]
        out[grp]=round(float(np.mean([b in t for b,t in zip(best,tags)])),3)
    out['all']=round(float(np.mean(list(out.values()))),3); return out
print('gen', adh(pg['probabilities'], tags)); print('real', adh(pr['probabilities'], tags)); print('shuf', adh(pg['probabilities'], [tags[j] for j in perm]))
h=N//2
print('fad gen', frechet_distance(pg['embedding'][:h], pr['embedding'][h:]), 'floor', frechet_distance(pr['embedding'][:h], pr['embedding'][h:]))
print('cpu', time.process_time()-t0)
