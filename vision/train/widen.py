"""Widen the trained reader without forgetting it (Net2WiderNet, Chen et al. 2016).

  /usr/bin/python3 vision/train/widen.py [--to 24,48,96,128,160]

Reads runs/reader/last.pt (kept as last_s<STEP>.pt), writes a last.pt whose model and EMA have the
wider channel counts and compute the same function: each new channel is a copy of an old one
(conv filter and BatchNorm statistics), and the next layer's weights from every copy of a channel
are divided by the number of copies. A little noise on those divided weights lets the copies grow
apart under training. The optimiser state cannot follow the new shapes, so it is left out; the
trainer starts a fresh one with a short warm-up. Seeded: the same input gives the same output.
"""
import argparse
import os
import shutil
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models  # noqa: E402
import plates  # noqa: E402

NOISE = 0.01      # of each divided weight's layer standard deviation


def convs(m):
    """The reader's conv+BN pairs in order, then the head conv."""
    out = [(s[0], s[1]) for s in m.body if isinstance(s, nn.Sequential)]
    return out, m.head


def channel_maps(old_c, new_c, rng):
    """For each conv of the reader, the old channel each new one copies. Drawn once and used for
    both the model and its EMA, so that the two stay channel for channel the same net."""
    (oc, _), (nc, _) = convs(models.Reader(old_c)), convs(models.Reader(new_c))
    return [np.concatenate([np.arange(o.out_channels), rng.integers(0, o.out_channels, n.out_channels - o.out_channels)])
            for (o, _), (n, _) in zip(oc, nc)]


def widen(sd_old, old_c, new_c, maps, rng):
    old, new = models.Reader(old_c), models.Reader(new_c)
    old.load_state_dict(sd_old)
    (oc, ohead), (nc, nhead) = convs(old), convs(new)
    g_in = np.arange(1)          # input channel map of the current layer (grey image: 1 channel)
    cnt_in = np.ones(1)
    with torch.no_grad():
        for (oconv, obn), (nconv, nbn), g in zip(oc, nc, maps):
            cnt = np.bincount(g, minlength=oconv.out_channels).astype(np.float32)
            w = oconv.weight[g][:, g_in] / torch.from_numpy(cnt_in[g_in]).float().view(1, -1, 1, 1)
            if len(g_in) > oconv.in_channels:       # this layer's inputs were widened: break symmetry
                w = w + NOISE * oconv.weight.std() * torch.from_numpy(
                    rng.standard_normal(w.shape).astype(np.float32)) / np.sqrt(cnt_in.max())
            nconv.weight.copy_(w)
            for name in ('weight', 'bias', 'running_mean', 'running_var'):
                getattr(nbn, name).copy_(getattr(obn, name)[g])
            nbn.num_batches_tracked.copy_(obn.num_batches_tracked)
            g_in, cnt_in = g, cnt
        nhead.weight.copy_(ohead.weight[:, g_in] / torch.from_numpy(cnt_in[g_in]).float().view(1, -1, 1, 1))
        nhead.bias.copy_(ohead.bias)
    return new.state_dict()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--to', default=','.join(map(str, models.WIDE)))
    a = ap.parse_args()
    new_c = tuple(int(x) for x in a.to.split(','))
    d = os.path.join(plates.WORK, 'reader')
    last = os.path.join(d, 'last.pt')
    ck = torch.load(last, map_location='cpu')
    old_c = tuple(ck.get('channels', models.NARROW))
    if old_c == new_c:      # make_models.sh rerun to resume: widened already
        print('widen: %s is already %s' % (os.path.relpath(last, plates.ROOT), new_c))
        return
    if any(n < o for n, o in zip(new_c, old_c)):
        sys.exit('widen: %s narrower than %s' % (new_c, old_c))
    keep = os.path.join(d, 'last_s%d.pt' % ck['step'])
    if not os.path.exists(keep):
        shutil.copyfile(last, keep)
    rng = np.random.default_rng([2016, ck['step']])
    maps = channel_maps(old_c, new_c, rng)
    out = dict(model=widen(ck['model'], old_c, new_c, maps, rng), ema=widen(ck['ema'], old_c, new_c, maps, rng),
               opt=None, step=ck['step'], best=-1.0, channels=new_c, args=ck.get('args'))
    # the widened net must compute what the narrow one did (up to the symmetry-breaking noise)
    x = torch.rand(8, 1, plates.REC_H, plates.REC_W)
    a_, b_ = models.Reader(old_c).eval(), models.Reader(new_c).eval()
    a_.load_state_dict(ck['ema']); b_.load_state_dict(out['ema'])
    with torch.no_grad():
        diff = float((a_(x).exp() - b_(x).exp()).abs().max())
    torch.save(out, last + '.tmp'); os.replace(last + '.tmp', last)
    print('widened %s -> %s at step %d (kept %s); max |prob diff| on random input %.2e' % (
        old_c, new_c, ck['step'], os.path.basename(keep), diff))


if __name__ == '__main__':
    main()
