"""Reader only, on the real dash-cam boxes of one split (labelled box, expanded as the Go side does,
no detector), read by assets/models/plate-reader.onnx in cv2.dnn; split by width band.

  /usr/bin/python3 vision/train/eval_crops.py [--split heldout] [--width W]

--width W: every box at least 1.25 W wide read as if it were W px wide (the frame around it
scaled down, synth.shrink): real plates of the split as a distant camera would see them; the
narrower boxes are left out.
"""
import argparse
import os
import sys

import cv2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import onnx_reader  # noqa: E402
import plates  # noqa: E402
import synth  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--split', default='heldout')
    ap.add_argument('--model', default=None)
    ap.add_argument('--width', type=float, default=0, help='read each box >= 1.25 W wide scaled down to W px wide')
    a = ap.parse_args()
    r = onnx_reader.OnnxReader(a.model)
    sp = plates.load_split()
    res = {}
    bad = []
    seen = {r['text'] for r in plates.load_labels() if sp.get(r['file']) == 'train'}
    for row in plates.load_labels():
        if not row['readable'] or sp.get(row['file']) != a.split:
            continue
        fr = cv2.imread(os.path.join(plates.DASHCAM, row['file']))
        box = row['box']
        if a.width:
            if box[2] < 1.25 * a.width:
                continue
            fr, box = synth.shrink(None, fr, box, a.width)
        x0, y0, x1, y1 = plates.crop_box(box, fr.shape)
        got = r.read(plates.reader_input(fr[y0:y1, x0:x1]))
        w = row['box'][2]
        band = '<80' if w < 80 else ('80-160' if w < 160 else '>=160')
        keys = (band, 'all', 'all, plate text never in a training frame' if row['text'] not in seen else 'all, plate also in training frames')
        for b in keys:
            v = res.setdefault(b, [0, 0]); v[0] += got == row['text']; v[1] += 1
        if got != row['text']:
            bad.append('%s %s->%s (w=%d)' % (os.path.basename(row['file']), row['text'], got, w))
    for b in ('<80', '80-160', '>=160', 'all', 'all, plate text never in a training frame', 'all, plate also in training frames'):
        if b in res:
            o, n = res[b]
            print('%s split, readable boxes, width %s: exact %.1f %% (%d/%d)' % (a.split, b, 100.0 * o / n, o, n))
    print('misreads:\n  ' + '\n  '.join(bad))


if __name__ == '__main__':
    main()
