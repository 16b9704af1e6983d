"""Frame-level check of the committed models on the demo drive (testdata/demo/drive.mp4).

Takes the middle video frame of every source-frame segment, runs the detector (cv2.dnn, as
eval_detector.py) and the reader on each detection, and compares with the composited plates
(boxes moved by the known zoom). Per frame, not per pass: the Go tracker/voter sees every frame.

    /usr/bin/python3 vision/train/eval_demo.py [--threshold 0.5]  (0.5 = plate-detector.md's recommendation)
"""
import argparse
import os
import sys

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import demo  # noqa: E402
import eval_detector  # noqa: E402
import onnx_reader  # noqa: E402
import plates  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--threshold', type=float, default=0.5)
    ap.add_argument('--list', action='store_true',
                    help='print each detection not on a composited plate (source frame, box in its pixels)')
    a = ap.parse_args()
    cv2.setNumThreads(1)
    frames, by_file, plate_of = demo.assign_plates()
    det = cv2.dnn.readNetFromONNX(os.path.join(plates.MODELS, 'plate-detector.onnx'))
    rd = onnx_reader.OnnxReader()
    cap = cv2.VideoCapture(os.path.join(demo.OUT, 'drive.mp4'))
    seg = int(demo.FPS * demo.FRAME_S)
    mid = seg // 2
    M = demo.zoom_matrix(mid, seg)
    z, tx, ty = M[0, 0], M[0, 2], M[1, 2]
    st = {b: [0, 0, 0] for b in ('>=80', '<80')}  # boxes, detected, read exactly
    false_dets = 0
    for fi, fn in enumerate(frames):
        img = None
        for k in range(seg):
            ok, f = cap.read()
            if not ok:
                raise SystemExit('video ended early at source frame %d' % fi)
            if k == mid:
                img = f
        dets = eval_detector.detect(det, img, a.threshold)
        used = set()
        for bi, r in enumerate(by_file[fn]):
            x, y, w, h = r['box']
            gt = (z * x + tx, z * y + ty, z * w, z * h)
            vrm = plate_of[demo.plate_key(fn, bi, r)][1]
            band = '>=80' if gt[2] >= 80 else '<80'
            st[band][0] += 1
            best, bj = 0.0, -1
            for j, d in enumerate(dets):
                v = eval_detector.iou(gt, d[1])
                if v > best and j not in used:
                    best, bj = v, j
            if best >= 0.5:
                used.add(bj)
                st[band][1] += 1
                x0, y0, x1, y1 = plates.crop_box(dets[bj][1], img.shape)
                got = rd.read(plates.reader_input(img[y0:y1, x0:x1]))
                st[band][2] += got == vrm
        false_dets += len(dets) - len(used)
        if a.list:
            for j, d in enumerate(dets):
                if j not in used:
                    bx, by, bw, bh = d[1]
                    print('not a composited plate: %s %d,%d,%d,%d score %.2f' % (
                        fn, (bx - tx) / z, (by - ty) / z, bw / z, bh / z, d[0]))
    for b, (n, d, r) in st.items():
        print('demo plates %s px: %d boxes, detected %.1f %% (%d), read exactly %.1f %% of boxes (%d)' % (
            b, n, 100.0 * d / max(1, n), d, 100.0 * r / max(1, n), r))
    print('detections not on a composited plate: %.3f per frame (%d in %d frames; includes the real '
          'plates that have no box)' % (false_dets / len(frames), false_dets, len(frames)))


if __name__ == '__main__':
    main()
