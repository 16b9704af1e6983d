"""The whole Go pipeline on close-up photographs: every readable held-out dash-cam plate at least
100 px wide, cut out of its frame so that the plate is 15-90 % of the cut's width (the cut 1.5
times wider than tall, kept inside the frame) and scaled up to 1200 px wide, read by
`anpr read --region any --json` (detector with its zoom window and --near passes, then the
reader). A plate counts as found when a read's box overlaps it at IoU >= 0.5 or lies at least
half inside it with its centre inside (a turned plate's bounding box is much taller than the
plate), and as exact when that read is its text; "other" counts the reads that overlap no plate. Then the same plates at
30 % of the width, the photograph turned by -20, -10, 10 and 20 degrees about the plate (a camera
held askew; edges reflected), the plate's box the bounding box of its turned corners.

  go build -o BIN ./cmd/anpr
  /usr/bin/python3 vision/train/eval_closeups.py --anpr BIN [--near on|off] [--far on|off] [--deskew on|off] [--jitter on|off] [--models DIR]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import plates  # noqa: E402

FRACS = (0.15, 0.3, 0.5, 0.7, 0.9)


def iou(a, b):
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    i = ix * iy
    return i / max(1e-6, a[2] * a[3] + b[2] * b[3] - i)


def close_up(frame, box, frac):
    x, y, w, h = box
    cw = w / frac
    ch = cw / 1.5
    cx, cy = x + w / 2, y + h / 2
    x0, y0 = int(max(0, cx - cw / 2)), int(max(0, cy - ch / 2))
    x1, y1 = int(min(frame.shape[1], cx + cw / 2)), int(min(frame.shape[0], cy + ch / 2))
    s = 1200 / (x1 - x0)
    img = cv2.resize(frame[y0:y1, x0:x1], (1200, int(round((y1 - y0) * s))), interpolation=cv2.INTER_CUBIC)
    return img, ((x - x0) * s, (y - y0) * s, w * s, h * s)


def matches(read, box):
    x, y, w, h = read
    inside = x <= box[0] + box[2] and box[0] <= x + w and y <= box[1] + box[3] and box[1] <= y + h
    ix = max(0, min(x + w, box[0] + box[2]) - max(x, box[0]))
    iy = max(0, min(y + h, box[1] + box[3]) - max(y, box[1]))
    cx, cy = x + w / 2, y + h / 2
    centre = box[0] <= cx <= box[0] + box[2] and box[1] <= cy <= box[1] + box[3]
    return iou(read, box) >= 0.5 or (inside and centre and ix * iy >= 0.5 * w * h)


def turn(img, box, deg):
    x, y, w, h = box
    M = cv2.getRotationMatrix2D((x + w / 2, y + h / 2), deg, 1.0)
    out = cv2.warpAffine(img, M, (img.shape[1], img.shape[0]), borderMode=cv2.BORDER_REFLECT)
    c = np.array([[x, y, 1], [x + w, y, 1], [x + w, y + h, 1], [x, y + h, 1]], np.float32) @ M.T
    (x0, y0), (x1, y1) = c.min(0), c.max(0)
    return out, (x0, y0, x1 - x0, y1 - y0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--anpr', required=True, help='an anpr binary (go build -o BIN ./cmd/anpr)')
    ap.add_argument('--split', default='heldout')
    ap.add_argument('--near', default='on')
    ap.add_argument('--deskew', default='on')
    ap.add_argument('--jitter', default='on')
    ap.add_argument('--far', default='on')
    ap.add_argument('--models', default=None)
    a = ap.parse_args()
    sp = plates.load_split()
    rows = [r for r in plates.load_labels()
            if r['readable'] and sp.get(r['file']) == a.split and r['box'][2] >= 100]
    print('%d readable %s plates >= 100 px; anpr read --region any --near %s --far %s --deskew %s --jitter %s' % (
        len(rows), a.split, a.near, a.far, a.deskew, a.jitter))
    with tempfile.TemporaryDirectory() as tmp:
        for frac, deg in [(f, 0) for f in FRACS] + [(0.3, d) for d in (-20, -10, 10, 20)]:
            paths, truth = [], []
            for i, r in enumerate(rows):
                img, box = close_up(cv2.imread(os.path.join(plates.DASHCAM, r['file'])), r['box'], frac)
                if deg:
                    img, box = turn(img, box, deg)
                p = os.path.join(tmp, '%02d_%d_%03d.jpg' % (frac * 100, deg, i))
                cv2.imwrite(p, img, [cv2.IMWRITE_JPEG_QUALITY, 92])
                paths.append(p)
                truth.append((r['text'], box))
            cmd = [a.anpr, 'read', '--region', 'any', '--json', '--near', a.near, '--far', a.far, '--deskew', a.deskew, '--jitter', a.jitter]
            if a.models:
                cmd += ['--models', a.models]
            out = subprocess.run(cmd + paths, capture_output=True, text=True, check=True).stdout
            found = exact = other = 0
            wrong = []
            for (text, box), line in zip(truth, out.splitlines()):
                reads = json.loads(line)['plates']
                hit = [p for p in reads if matches(p['box'], box)]
                other += len(reads) - len(hit)
                found += bool(hit)
                exact += any(p['text'] == text for p in hit)
                if not any(p['text'] == text for p in hit):
                    wrong.append('%s->%s' % (text, ','.join(p['text'] for p in hit) or '(none)'))
            print('plate %2d %% of the width%s: found %d/%d, exact %d/%d, other reads %d%s' % (
                frac * 100, ', turned %+d deg' % deg if deg else '', found, len(rows), exact, len(rows), other,
                ('; ' + ' '.join(wrong[:6])) if wrong else ''))


if __name__ == '__main__':
    main()
