"""Train the plate recogniser (all-conv CRNN + CTC) on on-the-fly synthetic plates plus oversampled
real training-split dash-cam crops. Resumable: rerun the same command and it continues from
vision/train/runs/reader/last.pt. Every batch is generated from rng(seed, step), so a run is
reproducible (up to float non-determinism of the CPU kernels).

  nice -n 5 /usr/bin/python3 vision/train/train_reader.py [--steps N] [--export-every N]

Best checkpoint (synthetic validation set, seed 1001) -> runs/reader/best.pt, exported to
assets/models/plate-reader.onnx by export.py when --export-every is set.
"""
import argparse
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models  # noqa: E402
import plates  # noqa: E402
import synth  # noqa: E402

SEED = 1234
VAL_SEED = 1001          # eval_synth.py uses another seed (2024)
REAL_FRAC = 0.2


class Batches(torch.utils.data.IterableDataset):
    def __init__(self, start, steps, bs, curric=0, easy_from=0, p_small=0.0):
        self.start, self.steps, self.bs, self.curric, self.easy_from = start, steps, bs, curric, easy_from
        self.p_small = p_small

    def __iter__(self):
        import cv2
        cv2.setNumThreads(1)
        sp = plates.load_split()
        bgs = synth.Backgrounds([f for f, s in sp.items() if s == 'train'])
        real = synth.real_crops('train')
        # with --workers N, worker i draws steps i, i+N, ...; the loader hands them back in step order
        wi = torch.utils.data.get_worker_info()
        first, every = (self.start + wi.id, wi.num_workers) if wi else (self.start, 1)
        for step in range(first, self.steps, every):
            rng = np.random.default_rng([SEED, step])
            xs, ts = [], []
            # curriculum (--curric N --easy-from S): from step S, clean synthetic UK plates, ramping
            # back to full augmentation / EU / real crops by step S+N (S=0: from the start).
            # --curric 0: full mix at every step.
            e = step - self.easy_from
            st = min(1.0, 0.15 + e / self.curric) if (self.curric and e >= 0) else 1.0
            for i in range(self.bs):
                if real and not (self.curric and 0 <= e < self.curric // 2) and rng.random() < REAL_FRAC:
                    x, t = synth.real_sample(rng, real[int(rng.integers(len(real)))])
                else:
                    x, t = synth.reader_sample(rng, bgs, p_eu=0.3 * st, strength=st, p_small=self.p_small)
                xs.append(x)
                ts.append(t)
            yield step, torch.from_numpy(np.stack(xs)[:, None]), ts


def ctc_batch(model, x, texts):
    logp = model(x)                      # N,T,C
    T = logp.shape[1]
    dev = logp.device
    tg = torch.tensor([c for t in texts for c in plates.encode(t)], dtype=torch.long, device=dev)
    tl = torch.tensor([len(t) for t in texts], dtype=torch.long, device=dev)
    il = torch.full((len(texts),), T, dtype=torch.long, device=dev)
    return F.ctc_loss(logp.permute(1, 0, 2), tg, il, tl, blank=0, zero_infinity=True), logp


def evaluate(model, xs, texts, dev='cpu'):
    model.eval()
    ok = 0
    with torch.no_grad():
        for i in range(0, len(xs), 64):
            lp = model(torch.from_numpy(xs[i:i + 64]).to(dev)).cpu().numpy()
            ok += sum(plates.greedy_decode(l) == t for l, t in zip(lp, texts[i:i + 64]))
    model.train()
    return ok / max(1, len(texts))


def from_onnx(path):
    """(Reader, channels) holding an exported model's weights (BN folded into each conv): the
    conv keeps the folded weight, its BN becomes the identity (mean 0, variance 1 - eps, scale 1)
    with the folded bias as its shift. Train it with its BN frozen (freeze_bn): batch statistics
    would undo the folding. The channels are read off the convs' widths (models.Reader's stack:
    c0, c1, c2, c2, c3, c3, c4 ...)."""
    import cv2
    net = cv2.dnn.readNetFromONNX(path)
    convs = [n for n in net.getLayerNames() if net.getLayer(net.getLayerId(n)).type == 'Convolution']
    outs = [net.getParam(net.getLayerId(n), 0).shape[0] for n in convs]
    channels = tuple(outs[i] for i in (0, 1, 2, 4, 6)) if len(outs) > 6 else ()
    assert channels, '%s: %d convolutions, the reader has 11' % (path, len(outs))
    model = models.Reader(channels)
    mods = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert len(convs) == len(mods) == len(bns) + 1, 'layers of %s do not match the reader %s' % (path, channels)
    with torch.no_grad():
        for i, (name, conv) in enumerate(zip(convs, mods)):
            lid = net.getLayerId(name)
            w, b = torch.from_numpy(net.getParam(lid, 0)), torch.from_numpy(net.getParam(lid, 1)).reshape(-1)
            assert w.shape == conv.weight.shape, '%s: %s, reader wants %s' % (name, tuple(w.shape), tuple(conv.weight.shape))
            conv.weight.copy_(w)
            if i < len(bns):
                bn = bns[i]
                bn.running_mean.zero_(); bn.running_var.fill_(1 - bn.eps)
                bn.weight.fill_(1); bn.bias.copy_(b)
            else:
                conv.bias.copy_(b)
    return model, channels


def live_bn(model, xs):
    """Puts back live BatchNorm into a reader from from_onnx without changing what it computes:
    each BN's running mean and variance become its input's per-channel statistics over xs (a
    list of input batches), its scale sqrt(var + eps) and its shift the folded bias + mean, so
    that in eval mode it is still the identity plus the bias, and in training it normalises by
    batch statistics close to those, as the reader was trained before export."""
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    acc = {}

    def hook(bn, inp):
        x = inp[0].detach().double()
        s = acc.setdefault(bn, [0.0, 0.0, 0])
        s[0] = s[0] + x.sum((0, 2, 3)); s[1] = s[1] + (x * x).sum((0, 2, 3)); s[2] += x.numel() // x.shape[1]
    hs = [bn.register_forward_pre_hook(hook) for bn in bns]
    model.eval()
    with torch.no_grad():
        for x in xs:
            model(x)
        for bn in bns:
            sm, sq, n = acc[bn]
            mu = sm / n
            var = (sq / n - mu * mu).clamp(min=0)
            bn.bias.add_(mu.float())
            bn.running_mean.copy_(mu.float()); bn.running_var.copy_(var.float())
            bn.weight.copy_((var + bn.eps).sqrt().float())
    for h in hs:
        h.remove()
    model.train()
    return model


def freeze_bn(model):
    """BN layers in eval mode (running statistics fixed) while the rest trains."""
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.eval()
    return model


def val_sets():
    sp = plates.load_split()
    bgs = synth.Backgrounds([f for f, s in sp.items() if s == 'train'])
    rng = np.random.default_rng(VAL_SEED)
    v = [synth.reader_sample(rng, bgs, p_eu=0.0) for _ in range(600)]
    vs = (np.stack([a for a, _ in v])[:, None], [t for _, t in v])
    # held-out real crops: monitored only, never used to pick a checkpoint
    # (as drawn by real_sample at full size, whatever --p-real-small: the same set every run)
    keep, synth.P_REAL_SMALL = synth.P_REAL_SMALL, 0.0
    rr = [synth.real_sample(np.random.default_rng(0), it) for it in synth.real_crops('heldout')]
    synth.P_REAL_SMALL = keep
    rl = (np.stack([a for a, _ in rr])[:, None], [t for _, t in rr]) if rr else None
    return vs, rl


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--steps', type=int, default=12000)
    ap.add_argument('--bs', type=int, default=32)
    ap.add_argument('--lr', type=float, default=3e-3)
    ap.add_argument('--curric', type=int, default=0)
    ap.add_argument('--easy-from', type=int, default=0)
    ap.add_argument('--export-every', type=int, default=0, help='export best to assets/models every N steps')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--p-cw', type=float, default=None,
                    help='share of synthetic UK plates in the CW2001-shaped face (default synth.P_CW)')
    ap.add_argument('--p-small', type=float, default=0.0,
                    help='share of synthetic plates drawn small (synth.SMALL_W); the validation set keeps the usual widths')
    ap.add_argument('--p-real-small', type=float, default=0.0,
                    help='share of the real training crops drawn farther off: the frame scaled down so the plate is 40-80 px wide (synth.shrink)')
    ap.add_argument('--p-holder', type=float, default=None,
                    help='share of synthetic plates framed in a holder (default synth.P_HOLDER; '
                         'validation included, 0 draws the sets of before holders)')
    ap.add_argument('--reset-best', action='store_true',
                    help='on resuming, forget the best validation so far (this stage picks its own best)')
    ap.add_argument('--workers', type=int, default=1, help='data worker processes (the synthesis is the slow part)')
    ap.add_argument('--device', default='cpu', help='torch device, e.g. cuda (the data is drawn the same either way)')
    ap.add_argument('--stop-after', type=float, default=0,
                    help='stop at the first checkpoint after this many seconds (resume later with the same command)')
    ap.add_argument('--halt-at', type=int, default=0,
                    help='stop once the checkpoint of this step is saved (a stage cut short: its last.pt is then that step)')
    ap.add_argument('--stretch', action='store_true',
                    help='contrast-stretch every reader input (plates.stretch), validation included')
    ap.add_argument('--init-onnx', default=None,
                    help='start a new run from an exported reader (assets/models/plate-reader.onnx) '
                         'instead of random weights; its BN layers stay frozen for the whole run')
    ap.add_argument('--bn-live', action='store_true',
                    help='with --init-onnx: BN put back live (live_bn, statistics of 8 training batches) and trained, not frozen')
    ap.add_argument('--run', default='reader', help='folder under vision/train/runs')
    ap.add_argument('--channels', default=None,
                    help='a fresh run\'s widths, e.g. 24,48,96,128,160 (models.WIDE; default models.NARROW); '
                         'a resumed run keeps its checkpoint\'s')
    ap.add_argument('--bf16', action='store_true',
                    help='forward and backward in bfloat16 (CPU autocast) with channels-last tensors; weights, '
                         'optimiser, EMA and validation stay float32 (about 2x faster on a CPU with AVX512-BF16)')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    # before the data worker forks; the validation set follows them too
    plates.STRETCH = a.stretch
    if a.p_cw is not None:
        synth.P_CW = a.p_cw
    synth.P_REAL_SMALL = a.p_real_small
    if a.p_holder is not None:
        synth.P_HOLDER = a.p_holder
    torch.manual_seed(SEED)
    d = os.path.join(plates.WORK, a.run)
    os.makedirs(d, exist_ok=True)
    last = os.path.join(d, 'last.pt')
    ck = torch.load(last, map_location='cpu', weights_only=False) if os.path.exists(last) else None
    frozen = ck.get('frozen_bn', False) if ck else bool(a.init_onnx) and not a.bn_live
    if a.init_onnx and not ck:
        model, channels = from_onnx(a.init_onnx)
        if a.bn_live:
            cal = Batches(0, 8, a.bs)
            live_bn(model, [x for _, x, _ in cal])
    else:
        fresh = tuple(int(c) for c in a.channels.split(',')) if a.channels else models.NARROW
        channels = tuple(ck.get('channels', models.NARROW)) if ck else fresh
        model = models.Reader(channels)
    dev = torch.device(a.device)
    model = model.to(dev)     # on dev before the optimiser and its state
    if a.bf16:
        model = model.to(memory_format=torch.channels_last)
    ema = models.Reader(channels).to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=1e-4)
    start, best, warm_from = 0, -1.0, 0
    if ck:
        model.load_state_dict(ck['model']); ema.load_state_dict(ck['ema'])
        start, best = ck['step'], ck['best']
        if ck['opt'] is not None:
            opt.load_state_dict(ck['opt'])
        else:       # widened (widen.py): a fresh optimiser warms up again
            warm_from = start
        if a.reset_best:
            best = -1.0
        print('resumed at step', start, 'best', best, 'channels', channels, flush=True)
    else:
        ema.load_state_dict(model.state_dict())
    if a.halt_at and start >= a.halt_at:
        print('already at step %d, at or past --halt-at %d: nothing to do' % (start, a.halt_at), flush=True)
        return
    for p in ema.parameters():
        p.requires_grad_(False)
    vs, rl = val_sets()

    def lr_at(s):
        w = 150
        cos = a.lr * (s / w if s < w else 0.5 * (1 + math.cos(math.pi * (s - w) / max(1, a.steps - w))) * 0.98 + 0.02)
        return cos * min(1.0, (s - warm_from + 1) / w) if warm_from else cos

    dl = torch.utils.data.DataLoader(Batches(start, a.steps, a.bs, a.curric, a.easy_from, a.p_small), batch_size=None, num_workers=a.workers,
                                     prefetch_factor=4, persistent_workers=False)
    t0, lsum, n = time.time(), 0.0, 0
    began = time.time()
    model.train()
    if frozen:
        freeze_bn(model)
        print('BN frozen (run started from %s)' % (ck['args'].get('init_onnx') if ck else a.init_onnx), flush=True)
    for step, x, texts in dl:
        x = x.to(dev, non_blocking=True)
        for g in opt.param_groups:
            g['lr'] = lr_at(step)
        if a.bf16:
            x = x.to(memory_format=torch.channels_last)
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=a.bf16):
            loss, _ = ctc_batch(model, x, texts)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        with torch.no_grad():
            dcy = min(0.998, (1 + step) / (10 + step))
            for pe, pm in zip(ema.state_dict().values(), model.state_dict().values()):
                if pe.dtype.is_floating_point:
                    pe.mul_(dcy).add_(pm.detach(), alpha=1 - dcy)
                else:
                    pe.copy_(pm)
        lsum += loss.item(); n += 1
        s1 = step + 1
        if s1 % 50 == 0:
            print('step %d loss %.3f lr %.2e %.2f s/step' % (s1, lsum / n, lr_at(step), (time.time() - t0) / n), flush=True)
            lsum, n, t0 = 0.0, 0, time.time()
        if s1 % 250 == 0 or s1 == a.steps:
            acc = evaluate(ema, *vs, dev)
            racc = evaluate(ema, *rl, dev) if rl else float('nan')
            print('step %d val synth exact %.4f | held-out real crops exact %.4f (monitor only)' % (s1, acc, racc), flush=True)
            ck = dict(model=model.state_dict(), ema=ema.state_dict(), opt=opt.state_dict(), step=s1,
                      best=max(best, acc), args=vars(a), channels=channels, frozen_bn=frozen)
            torch.save(ck, last + '.tmp'); os.replace(last + '.tmp', last)
            if acc > best:
                best = acc
                torch.save(dict(ema=ema.state_dict(), step=s1, val=acc, channels=channels), os.path.join(d, 'best.pt'))
                print('new best', acc, flush=True)
                if a.export_every and (s1 % a.export_every == 0 or s1 == a.steps):
                    import export
                    try:
                        export.export_reader(os.path.join(d, 'best.pt'))
                    except Exception as e:  # keep training
                        print('export failed:', e, flush=True)
            if a.halt_at and s1 >= a.halt_at:
                print('halting at step %d (--halt-at)' % s1, flush=True)
                return
            if a.stop_after and time.time() - began > a.stop_after:
                print('stopping at step %d after %.0f s (--stop-after); rerun to resume' % (s1, time.time() - began), flush=True)
                return


if __name__ == '__main__':
    main()
