"""Real UK glyphs: plates assembled from the gb-chars tiles (EVALUATION ONLY, AGPL: read in place
from ../shared, never copied or trained on) in UK formats, spaced like a real plate (50 x 79 mm
character cells, 11 mm gaps, 33 mm group gap on a 520 x 111 mm white or yellow plate), read by
assets/models/plate-reader.onnx in cv2.dnn. Tiles have no I or Q, so NI marks use Z codes.

  /usr/bin/python3 vision/train/eval_gbchars.py [--n 1000] [--anpr BIN]

With --anpr (an anpr binary: go build -o BIN ./cmd/anpr), the same crops are also read the way
the product reads them in its default --region gb: `anpr read --crop --region gb`, the reader
plus the UK rules of app/vrm (look-alikes repaired where the format wants a digit or a letter).
The crops go to a temporary folder for that run and are deleted after it. With --model, anpr
loads that file's folder (--models), so put plate-detector.onnx and plate-detector.md beside it.
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import onnx_reader  # noqa: E402
import plates  # noqa: E402
import synth  # noqa: E402

SEED = 77
LOOKALIKE = [('0', 'O'), ('O', '0'), ('1', 'I'), ('8', 'B'), ('B', '8'), ('5', 'S'), ('S', '5'),
             ('2', 'Z'), ('Z', '2'), ('D', '0'), ('0', 'D'), ('6', 'G'), ('G', '6')]


def load_tiles():
    t = {}
    with open(os.path.join(plates.GBCHARS, 'labels.csv')) as f:
        for r in csv.DictReader(f):
            im = cv2.imread(os.path.join(plates.GBCHARS, r['file']), cv2.IMREAD_GRAYSCALE)
            if im is not None:
                t.setdefault(r['char'].upper(), []).append(im)
    return t


def mark(rng, tiles):
    while True:
        groups, kind = synth.uk_text(rng)
        if all(c in tiles for c in ''.join(groups)):
            return groups, kind


def assemble(rng, tiles, groups, k):
    PW, PH = 520, 111
    widths = []
    for gi, g in enumerate(groups):
        for ci, c in enumerate(g):
            widths.append((c, 50 if c != '1' else 22, 11 if ci < len(g) - 1 else (33 if gi < len(groups) - 1 else 0)))
    tot = sum(w + s for _, w, s in widths)
    ink = np.zeros((int(PH * k), int(PW * k)), np.float32)
    x = (PW - tot) / 2
    for c, w, s in widths:
        tile = tiles[c][int(rng.integers(len(tiles[c])))]
        th, tw = tile.shape
        hh = int(79 * k)
        ww = max(1, int(round(tw * hh / th)))
        ww = min(ww, int(60 * k))
        t = 1 - cv2.resize(tile, (ww, hh), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
        x0 = int((x + w / 2) * k - ww / 2)
        y0 = int(16 * k)
        x0 = max(0, min(ink.shape[1] - ww, x0))
        ink[y0:y0 + hh, x0:x0 + ww] = np.maximum(ink[y0:y0 + hh, x0:x0 + ww], t)
        x += w + s
    yellow = rng.random() < 0.5
    bg = np.array((30, 205, 240) if yellow else (235, 235, 235), np.float32)
    img = bg * (1 - ink[..., None]) + np.array((20, 20, 20), np.float32) * ink[..., None]
    return img.astype(np.uint8)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--n', type=int, default=1000)
    ap.add_argument('--model', default=None)
    ap.add_argument('--anpr', default=None, help='also read the crops with this anpr binary in --region gb')
    a = ap.parse_args()
    r = onnx_reader.OnnxReader(a.model)
    tiles = load_tiles()
    rng = np.random.default_rng(SEED)
    ok, pairs, cer, n = 0, [], 0.0, 0
    byw, crops = {}, []
    for i in range(a.n):
        groups, kind = mark(rng, tiles)
        t = ''.join(groups)
        plate = assemble(rng, tiles, groups, k=1.0)
        # plate in a grey surround, box = plate bounds, width 80..300 px
        w = int(rng.uniform(80, 300))
        h = max(8, int(round(w * 111 / 520)))
        p = cv2.resize(plate, (w, h), interpolation=cv2.INTER_AREA)
        canvas = np.full((h * 3, w * 2, 3), int(rng.uniform(40, 160)), np.uint8)
        oy, ox = h, w // 2
        canvas[oy:oy + h, ox:ox + w] = p
        x0, y0, x1, y1 = plates.crop_box((ox, oy, w, h), canvas.shape)
        got = r.read(plates.reader_input(canvas[y0:y1, x0:x1]))
        crops.append((canvas[y0:y1, x0:x1], t))
        n += 1
        ok += got == t
        band = '80-160' if w < 160 else '160-300'
        bw = byw.setdefault(band, [0, 0]); bw[0] += got == t; bw[1] += 1
        cer += onnx_reader.edit_distance(t, got) / len(t)
        if got != t:
            pairs.append((t, got))
    print('gb-chars assembled UK plates (seed %d, n=%d): exact %.2f %% (%d/%d), char acc %.2f %% (target exact >= 98 %%)' % (
        SEED, n, 100.0 * ok / n, ok, n, 100 * (1 - cer / n)))
    for b, (o, m) in sorted(byw.items()):
        print('  width %s px: exact %.2f %% (%d/%d)' % (b, 100.0 * o / m, o, m))
    c = onnx_reader.confusions(pairs)
    print('top substitutions (truth->read: n):', ', '.join('%s->%s: %d' % (k[0], k[1], v) for k, v in sorted(c.items(), key=lambda kv: -kv[1])[:12]))
    print('look-alike substitutions:', ', '.join('%s->%s: %d' % (x, y, c.get((x, y), 0)) for x, y in LOOKALIKE))
    print('examples of misreads:', ', '.join('%s->%s' % p for p in pairs[:15]))
    if a.anpr:
        read_with_anpr(a.anpr, a.model, crops)


def read_with_anpr(binary, model, crops):
    """The crops read by `anpr read --crop --region gb` (reader + UK rules)."""
    models = os.path.dirname(os.path.abspath(model)) if model else plates.MODELS
    with tempfile.TemporaryDirectory() as d:
        files = []
        for i, (c, _) in enumerate(crops):
            files.append(os.path.join(d, '%04d.png' % i))
            cv2.imwrite(files[-1], c)
        out = subprocess.run([binary, 'read', '--crop', '--region', 'gb', '--json', '--threads', '1',
                              '--models', models] + files, check=True, capture_output=True, text=True).stdout
    got = {}
    for line in out.splitlines():
        o = json.loads(line)
        got[o['file']] = o['plates'][0]['text'] if o['plates'] else ''
    ok, pairs = 0, []
    for f, (_, t) in zip(files, crops):
        ok += got.get(f) == t
        if got.get(f) != t:
            pairs.append((t, got.get(f, '')))
    n = len(crops)
    print('read as the product does (anpr read --crop --region gb, UK rules): exact %.2f %% (%d/%d)' % (
        100.0 * ok / n, ok, n))
    c = onnx_reader.confusions(pairs)
    print('  top substitutions:', ', '.join('%s->%s: %d' % (k[0], k[1], v) for k, v in sorted(c.items(), key=lambda kv: -kv[1])[:10]))
    print('  examples of misreads:', ', '.join('%s->%s' % p for p in pairs[:15]))


if __name__ == '__main__':
    main()
