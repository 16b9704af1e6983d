"""Shared definitions for the plate models (see assets/models/CONTRACT.md).

Paths are relative to the repository root; run scripts from there.
"""
import csv
import os
import re

import cv2
import numpy as np

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
TRAIN_DIR = os.path.join(ROOT, 'vision', 'train')
WORK = os.path.join(TRAIN_DIR, 'runs')
MODELS = os.path.join(ROOT, 'assets', 'models')
SHARED = os.path.join(ROOT, '..', 'shared', 'data')
DASHCAM = os.path.join(SHARED, 'plates', 'dashcam-ro')
GBCHARS = os.path.join(SHARED, 'plates', 'gb-chars')
SPLIT_CSV = os.path.join(TRAIN_DIR, 'split.csv')
HELDOUT_LIST = os.path.join(TRAIN_DIR, 'heldout.txt')

CHARS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ'  # class i+1; 0 = CTC blank
NCLASS = len(CHARS) + 1
REC_W, REC_H = 192, 48
PAD_X, PAD_Y = 0.08, 0.15
TWO_LINE_ASPECT = 2.0
DET_W, DET_H, DET_STRIDE = 512, 288, 4


def encode(text):
    return [CHARS.index(c) + 1 for c in text]


def crop_box(box, shape):
    """The detected box (x, y, w, h) grown by 8 % of w / 15 % of h per side, clamped."""
    x, y, w, h = box
    dx = int(w * PAD_X + 0.5)
    dy = int(h * PAD_Y + 0.5)
    H, W = shape[:2]
    x0, y0 = max(0, int(round(x)) - dx), max(0, int(round(y)) - dy)
    x1, y1 = min(W, int(round(x + w)) + dx), min(H, int(round(y + h)) + dy)
    return x0, y0, x1, y1


def split_row(grey):
    """The row a two-line crop is cut at: among rows 35-65 % of its height, the deepest valley of
    horizontal ink between the lines. A row's ink is the sum of |I(x+1) - I(x)| over its band of
    rows y-k..y+k (k = max(1, h // 20)); its depth is the lesser of the most ink of any row above
    and of any row below, less its own (the gap between the lines has strokes on both sides; the
    blank margin of a loose box has none beyond it). Ties go to the row nearest mid-height, then
    the upper. Kept in [1, h-1] so both halves have a row. The Go side (vision/recognise.go
    splitRow) is the same integer arithmetic."""
    h = grey.shape[0]
    gx = np.abs(np.diff(grey.astype(np.int64), axis=1)).sum(1)
    k = max(1, h // 20)
    band = [int(gx[max(0, y - k):min(h, y + k + 1)].sum()) for y in range(h)]
    above = [0] * h
    below = [0] * h
    for y in range(1, h):
        above[y] = max(above[y - 1], band[y - 1])
    for y in range(h - 2, -1, -1):
        below[y] = max(below[y + 1], band[y + 1])
    lo, hi = int(h * 0.35), min(int(h * 0.65), h - 1)
    best = min(range(lo, hi + 1), key=lambda y: (-(min(above[y], below[y]) - band[y]), abs(2 * y - h), y))
    return min(max(best, 1), h - 1)


# Contrast stretch of the reader's input (train_reader.py --stretch; off for the committed
# reader): the 192x48 grey input's 2nd and 98th percentile grey levels are spread to a range
# of 255 about mid-grey, the gain at most STRETCH_GAIN, through a lookup table.
STRETCH = False
STRETCH_LO, STRETCH_HI, STRETCH_GAIN = 0.02, 0.98, 4.0


def stretch(grey):
    """uint8 grey -> uint8, the contrast stretch above. Integer percentiles from the cumulative
    histogram: lo is the first level with more than 2 % of the pixels at or below it, hi the
    first with at least 98 %."""
    n = grey.size
    cum = np.cumsum(np.bincount(grey.ravel(), minlength=256))
    lo = int(np.argmax(cum > STRETCH_LO * n))
    hi = int(np.argmax(cum >= STRETCH_HI * n))
    gain = min(255.0 / max(hi - lo, 1), STRETCH_GAIN)
    lut = np.clip(np.floor((np.arange(256) - (lo + hi) / 2.0) * gain + 128.0), 0, 255).astype(np.uint8)
    return lut[grey]


def reader_input(crop):
    """Crop (BGR or grey, uint8) -> float32 [48,192] in 0..1, as the Go side does it."""
    if crop.ndim == 3:
        crop = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    h, w = crop.shape[:2]
    if h >= 2 and w / float(h) < TWO_LINE_ASPECT:
        mid = split_row(crop)
        top, bot = crop[:mid], crop[mid:]
        hh = min(top.shape[0], bot.shape[0])
        top = cv2.resize(top, (top.shape[1], hh), interpolation=cv2.INTER_LINEAR)
        bot = cv2.resize(bot, (bot.shape[1], hh), interpolation=cv2.INTER_LINEAR)
        crop = np.concatenate([top, bot], axis=1)
    out = cv2.resize(crop, (REC_W, REC_H), interpolation=cv2.INTER_LINEAR)
    if STRETCH:
        out = stretch(out)
    return out.astype(np.float32) / 255.0


def frame_time(name):
    m = re.search(r'_t_(\d+)', name)
    return int(m.group(1)) if m else 0


def load_labels():
    rows = []
    with open(os.path.join(DASHCAM, 'labels.csv')) as f:
        for r in csv.DictReader(f):
            rows.append(dict(file=r['file'], text=r['plate_text'].strip().upper(),
                             box=(int(r['x']), int(r['y']), int(r['w']), int(r['h'])),
                             readable=int(r['readable'])))
    return rows


def load_split():
    """{file: 'train'|'heldout'} from vision/train/split.csv."""
    out = {}
    with open(SPLIT_CSV) as f:
        for r in csv.DictReader(f):
            out[r['file']] = r['split']
    return out


def greedy_decode(logp):
    """logp [T, C] -> text (collapse repeats, drop blanks)."""
    best = logp.argmax(-1)
    s, prev = [], 0
    for k in best:
        k = int(k)
        if k != prev and k != 0:
            s.append(CHARS[k - 1])
        prev = k
    return ''.join(s)
