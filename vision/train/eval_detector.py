"""Detector only (no reader), on the dash-cam frames of one split, as the Go side decodes it
(3x3 local maxima >= threshold, NMS IoU 0.3): recall at IoU >= 0.5 by width band, false
detections per frame (some visible plates have no box, so this over-counts), ms/frame on 1 thread.

  /usr/bin/python3 vision/train/eval_detector.py [--split heldout] [--thresholds 0.3,0.4,0.5]
"""
import argparse
import os
import sys
import time

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import plates  # noqa: E402


def detect(net, img, thr):
    H, W = img.shape[:2]
    s = min(plates.DET_W / W, plates.DET_H / H)
    r = cv2.resize(img, (int(round(W * s)), int(round(H * s))), interpolation=cv2.INTER_AREA)
    x = np.zeros((plates.DET_H, plates.DET_W, 3), np.float32)
    x[:r.shape[0], :r.shape[1]] = r[:, :, ::-1] / 255.0
    net.setInput(np.ascontiguousarray(x.transpose(2, 0, 1)[None]))
    hm, bx = net.forward(['heatmap', 'box'])
    hm = hm[0, 0]
    mx = cv2.dilate(hm, np.ones((3, 3), np.uint8))
    ys, xs = np.nonzero((hm >= thr) & (hm >= mx))
    dets = []
    for y, x_ in zip(ys, xs):
        ox, oy, w, h = bx[0, :, y, x_]
        cx, cy = (x_ + ox) * 4 / s, (y + oy) * 4 / s
        w, h = w * 4 / s, h * 4 / s
        dets.append((float(hm[y, x_]), (cx - w / 2, cy - h / 2, w, h)))
    dets.sort(key=lambda d: -d[0])
    keep = []
    for d in dets:
        if all(iou(d[1], k[1]) < 0.3 for k in keep):
            keep.append(d)
    return keep


def iou(a, b):
    ax1, ay1, bx1, by1 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = max(0, min(ax1, bx1) - max(a[0], b[0]))
    ih = max(0, min(ay1, by1) - max(a[1], b[1]))
    i = iw * ih
    return i / max(1e-6, a[2] * a[3] + b[2] * b[3] - i)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--split', default='heldout')
    ap.add_argument('--thresholds', default='0.2,0.3,0.4,0.5,0.6')
    ap.add_argument('--model', default=os.path.join(plates.MODELS, 'plate-detector.onnx'))
    a = ap.parse_args()
    cv2.setNumThreads(1)
    net = cv2.dnn.readNetFromONNX(a.model)
    sp = plates.load_split()
    by = {}
    for r in plates.load_labels():
        by.setdefault(r['file'], []).append(r)
    files = sorted(f for f, s in sp.items() if s == a.split)
    imgs = {f: cv2.imread(os.path.join(plates.DASHCAM, f)) for f in files}
    t0 = time.time()
    for f in files:
        detect(net, imgs[f], 0.5)
    ms = (time.time() - t0) / len(files) * 1000
    print('%s split: %d frames, %d boxes; detector %.1f ms/frame on 1 thread (incl. resize + decode)' % (
        a.split, len(files), sum(len(by.get(f, [])) for f in files), ms))
    for thr in [float(t) for t in a.thresholds.split(',')]:
        res, false = {}, 0
        for f in files:
            dets = detect(net, imgs[f], thr)
            used = set()
            for r in by.get(f, []):
                w = r['box'][2]
                band = '<80' if w < 80 else '>=80'
                best = max(((iou(r['box'], d[1]), i) for i, d in enumerate(dets)), default=(0, -1))
                hit = best[0] >= 0.5
                if hit:
                    used.add(best[1])
                for b in (band, 'all'):
                    v = res.setdefault(b, [0, 0]); v[0] += hit; v[1] += 1
            false += sum(1 for i, d in enumerate(dets) if i not in used and
                         all(iou(r['box'], d[1]) < 0.5 for r in by.get(f, [])))
        print('threshold %.2f: recall >=80 px %s, <80 px %s, all %s; false/frame %.3f' % (
            thr, *('%.1f %% (%d/%d)' % (100.0 * res[b][0] / max(1, res[b][1]), res[b][0], res[b][1])
                   for b in ('>=80', '<80', 'all')), false / len(files)))


if __name__ == '__main__':
    main()
