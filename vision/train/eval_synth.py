"""Synthetic UK test set (seed 2024, never used in training: training uses rng(1234, step), its
validation seed 1001) read by assets/models/plate-reader.onnx in cv2.dnn; exact rate split by face
(CW2001-shaped or font), two-line, framed in a holder, plate width and each photometric condition
(night, IR, glare, ...).

  /usr/bin/python3 vision/train/eval_synth.py [--n 1000] [--anpr BIN]

With --anpr (an anpr binary), the same crops are also read the way the product reads them in its
default --region gb (`anpr read --crop --region gb`: the reader, its stills' jitter vote and the UK
rules of app/vrm), as eval_gbchars.py does.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import eval_gbchars  # noqa: E402
import onnx_reader  # noqa: E402
import plates  # noqa: E402
import synth  # noqa: E402

TEST_SEED = 2024
CONDITIONS = ['night', 'ir', 'haze', 'glare', 'dirt', 'occluded', 'motion-blur', 'focus-blur']
ORDER = ['cw-face', 'font-face', 'two-line', 'holder', 'w<80', 'w80-160', 'w>=160', 'no-condition'] + CONDITIONS


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--n', type=int, default=1000)
    ap.add_argument('--model', default=None)
    ap.add_argument('--seed', type=int, default=TEST_SEED, help='1001 = the trainer\'s validation set (for model selection)')
    ap.add_argument('--anpr', default=None, help='also read the crops with this anpr binary in --region gb')
    ap.add_argument('--unbounded', action='store_true',
                    help='the conditions without the legibility floor (the set before it; see synth.photometric)')
    ap.add_argument('--p-holder', type=float, default=None,
                    help='share of plates framed in a holder (default synth.P_HOLDER; 0: the test set of before holders)')
    a = ap.parse_args()
    synth.LEGIBLE = not a.unbounded
    if a.p_holder is not None:
        synth.P_HOLDER = a.p_holder
    r = onnx_reader.OnnxReader(a.model)
    sp = plates.load_split()
    bgs = synth.Backgrounds([f for f, s in sp.items() if s == 'train'])
    rng = np.random.default_rng(a.seed)
    ok, pairs, cer = 0, [], 0.0
    by = {}   # condition -> [exact, n]
    crops, cut = [], plates.reader_input

    def keep(crop):   # the crop the reader's input is made of, for --anpr
        crops.append(crop.copy())
        return cut(crop)
    synth.plates.reader_input = keep
    for i in range(a.n):
        tags = []
        x, t = synth.reader_sample(rng, bgs, p_eu=0.0, tags=tags)
        assert len(crops) == i + 1, 'one reader input per sample'
        crops[-1] = (crops[-1], t)
        got = r.read(x)
        ok += got == t
        conds = [g for g in tags if g in CONDITIONS]
        for g in tags + (['no-condition'] if not conds else []):
            e = by.setdefault(g, [0, 0])
            e[0] += got == t
            e[1] += 1
        cer += onnx_reader.edit_distance(t, got) / len(t)
        if got != t:
            pairs.append((t, got))
    print('synthetic UK test (seed %d, n=%d, %s): exact %.2f %% (%d/%d), char acc %.2f %% (target exact >= 99 %%)' % (
        a.seed, a.n, 'unbounded' if a.unbounded else 'legibility floor', 100.0 * ok / a.n, ok, a.n, 100 * (1 - cer / a.n)))
    for g in ORDER:
        if g in by:
            print('  %-13s exact %6.2f %% (%d/%d)' % (g, 100.0 * by[g][0] / by[g][1], by[g][0], by[g][1]))
    c = sorted(onnx_reader.confusions(pairs).items(), key=lambda kv: -kv[1])[:12]
    print('top substitutions (truth->read: n):', ', '.join('%s->%s: %d' % (k[0], k[1], v) for k, v in c))
    print('examples of misreads:', ', '.join('%s->%s' % p for p in pairs[:15]))
    if a.anpr:
        eval_gbchars.read_with_anpr(a.anpr, a.model, crops)


if __name__ == '__main__':
    main()
