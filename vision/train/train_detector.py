"""Train the plate detector (tiny CenterNet, assets/models/CONTRACT.md) on the training-split
dash-cam frames (real boxes as positives) with extra synthetic plates (synth.py) pasted at
realistic positions, scales and perspective. Resumable from vision/train/runs/detector/last.pt;
batches drawn from rng(seed, step).

  nice -n 5 /usr/bin/python3 vision/train/train_detector.py [--steps N] [--export-every N]

Visible plates in the frames without a box: confident detections away from labelled boxes get a
reduced negative weight (0.25) so the net is not pushed hard to miss real plates.
"""
import argparse
import math
import os
import sys
import time

import cv2
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models  # noqa: E402
import plates  # noqa: E402
import synth  # noqa: E402

SEED = 4321
W, H, S = plates.DET_W, plates.DET_H, plates.DET_STRIDE
GW, GH = W // S, H // S


def frames(split):
    sp = plates.load_split()
    by = {}
    for r in plates.load_labels():
        by.setdefault(r['file'], []).append(r['box'])
    out = []
    for f, s in sorted(sp.items()):
        if s == split:
            img = cv2.imread(os.path.join(plates.DASHCAM, f))
            if img is not None:
                out.append((img, by.get(f, [])))
    return out


def paste(rng, img, boxes, real_boxes):
    """Paste a synthetic plate into img (input space, modified) at a realistic place and scale."""
    if real_boxes and rng.random() < 0.7:
        rb = real_boxes[int(rng.integers(len(real_boxes)))]
        tw = rb[2] * rng.uniform(0.6, 1.6)
        cx = rb[0] + rb[2] / 2 + rng.normal(0, 150) * 0.4
        cy = rb[1] + rb[3] / 2 + rng.normal(0, 40) * 0.4
    else:
        tw = float(np.exp(rng.uniform(np.log(16), np.log(130))))
        cx, cy = rng.uniform(20, W - 20), rng.uniform(H * 0.35, H - 10)
    plate, _ = synth.render_plate(rng, p_eu=0.35)
    ph, pw = plate.shape[:2]
    th = tw * ph / pw
    pad = int(tw * 0.3 + 4)
    x0, y0 = int(cx - tw / 2 - pad), int(cy - th / 2 - pad)
    x1, y1 = int(cx + tw / 2 + pad), int(cy + th / 2 + pad)
    if x0 < 0 or y0 < 0 or x1 > W or y1 > H:
        return
    for b in boxes:   # do not cover another plate
        if x0 < b[0] + b[2] and b[0] < x1 and y0 < b[1] + b[3] and b[1] < y1:
            return
    roi = img[y0:y1, x0:x1].copy()
    plate = cv2.resize(plate, (max(8, int(tw * 2)), max(4, int(th * 2))), interpolation=cv2.INTER_AREA)
    if rng.random() < 0.5:
        plate = synth.photometric(plate, rng, strength=0.5)
    out, quad = synth.place_plate_at(rng, plate, roi, tw, (cx - x0, cy - y0))
    img[y0:y1, x0:x1] = out
    qx0, qy0 = quad.min(0)
    qx1, qy1 = quad.max(0)
    boxes.append((x0 + qx0, y0 + qy0, qx1 - qx0, qy1 - qy0))


def mosaic(rng, items):
    """Four frames shrunk (0.45-0.9x) into the quadrants around a random split point: plates at
    smaller scales than the frames hold and in new surroundings. A plate cut by its tile's edge
    stays a positive if at least 60 % of its width is inside, clipped; otherwise it is dropped."""
    img = np.zeros((H, W, 3), np.uint8)
    mx, my = int(rng.uniform(0.3, 0.7) * W), int(rng.uniform(0.3, 0.7) * H)
    boxes = []
    for qx0, qy0, qx1, qy1 in ((0, 0, mx, my), (mx, 0, W, my), (0, my, mx, H), (mx, my, W, H)):
        frame, fboxes = items[int(rng.integers(len(items)))]
        fh, fw = frame.shape[:2]
        s = W / fw * rng.uniform(0.45, 0.9)
        sw, sh = int(fw * s), int(fh * s)
        tw, th = qx1 - qx0, qy1 - qy0
        ox = int(rng.uniform(0, max(0, sw - tw)))
        oy = int(rng.uniform(0, max(0, sh - th)))
        small = cv2.resize(frame, (sw, sh), interpolation=cv2.INTER_AREA)
        tile = small[oy:oy + th, ox:ox + tw]
        img[qy0:qy0 + tile.shape[0], qx0:qx0 + tile.shape[1]] = tile
        for b in fboxes:
            x0, y0 = b[0] * s - ox, b[1] * s - oy
            x1, y1 = x0 + b[2] * s, y0 + b[3] * s
            cx0, cy0 = max(x0, 0), max(y0, 0)
            cx1, cy1 = min(x1, tile.shape[1]), min(y1, tile.shape[0])
            if cx1 - cx0 < 0.6 * (x1 - x0) or cy1 - cy0 < 0.6 * (y1 - y0):
                continue
            boxes.append((qx0 + cx0, qy0 + cy0, cx1 - cx0, cy1 - cy0))
    return img, boxes


def rotate(rng, img, boxes, max_deg):
    """The whole sample turned about its centre by up to max_deg degrees (a tilted camera, a
    photograph taken askew), edges reflected; each box becomes its turned corners' bounding box."""
    ang = float(np.clip(rng.normal(0, max_deg / 2), -max_deg, max_deg))
    M = cv2.getRotationMatrix2D((W / 2, H / 2), ang, 1.0)
    img = cv2.warpAffine(img, M, (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    out = []
    for x, y, w, h in boxes:
        c = np.array([[x, y, 1], [x + w, y, 1], [x + w, y + h, 1], [x, y + h, 1]], np.float32) @ M.T
        (x0, y0), (x1, y1) = c.min(0), c.max(0)
        if 0 <= (x0 + x1) / 2 < W and 0 <= (y0 + y1) / 2 < H:
            out.append((x0, y0, x1 - x0, y1 - y0))
    return img, out


def sample(rng, item, real_boxes, items=None, p_mosaic=0.0, p_rot=0.0, max_rot=0.0, pastes=3):
    if p_mosaic > 0 and rng.random() < p_mosaic:
        img, boxes = mosaic(rng, items)
        return finish(rng, img, boxes, real_boxes, p_rot, max_rot, pastes)
    frame, fboxes = item
    fh, fw = frame.shape[:2]
    z = rng.uniform(1.0, 1.6) if rng.random() < 0.6 else 1.0
    cw, ch = fw / z, fh / z
    ox, oy = rng.uniform(0, fw - cw), rng.uniform(0, fh - ch)
    M = np.array([[W / cw, 0, -ox * W / cw], [0, H / ch, -oy * H / ch]], np.float32)
    img = cv2.warpAffine(frame, M, (W, H), flags=cv2.INTER_AREA)
    s = W / cw
    boxes = [((b[0] - ox) * s, (b[1] - oy) * s, b[2] * s, b[3] * s) for b in fboxes]
    boxes = [b for b in boxes if b[0] + b[2] / 2 > 0 and b[0] + b[2] / 2 < W and b[1] + b[3] / 2 > 0 and b[1] + b[3] / 2 < H]
    return finish(rng, img, boxes, real_boxes, p_rot, max_rot, pastes)


def finish(rng, img, boxes, real_boxes, p_rot=0.0, max_rot=0.0, pastes=3):
    """Synthetic plates pasted in (0 to pastes), turn, flip, global photometric changes; the
    network's input."""
    for _ in range(int(rng.integers(0, pastes + 1))):
        paste(rng, img, boxes, real_boxes)
    if p_rot > 0 and rng.random() < p_rot:
        img, boxes = rotate(rng, img, boxes, max_rot)
    if rng.random() < 0.5:
        img = img[:, ::-1].copy()
        boxes = [(W - b[0] - b[2], b[1], b[2], b[3]) for b in boxes]
    # global photometric: brightness, casts, night, blur, noise, jpeg
    f = img.astype(np.float32)
    if rng.random() < 0.15:
        f = f * rng.uniform(0.2, 0.5)
    f = f * np.array([rng.uniform(0.8, 1.2) for _ in range(3)], np.float32) * rng.uniform(0.7, 1.3) + rng.uniform(-30, 30)
    img = np.clip(f, 0, 255).astype(np.uint8)
    if rng.random() < 0.3:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.3, 1.0))
    if rng.random() < 0.4:
        img = cv2.imdecode(cv2.imencode('.jpg', img, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(30, 90))])[1], 1)
    x = cv2.cvtColor(img, cv2.COLOR_BGR2RGB).astype(np.float32).transpose(2, 0, 1) / 255.0
    return x, boxes


def targets(boxes):
    hm = np.zeros((GH, GW), np.float32)
    reg = np.zeros((4, GH, GW), np.float32)
    msk = np.zeros((GH, GW), np.float32)
    yy, xx = np.mgrid[0:GH, 0:GW].astype(np.float32)
    for x, y, w, h in boxes:
        cx, cy = (x + w / 2) / S, (y + h / 2) / S
        ix, iy = int(cx), int(cy)
        if not (0 <= ix < GW and 0 <= iy < GH):
            continue
        sx, sy = max(0.7, w / S / 6), max(0.6, h / S / 3)
        g = np.exp(-((xx - ix) ** 2 / (2 * sx * sx) + (yy - iy) ** 2 / (2 * sy * sy)))
        hm = np.maximum(hm, g)
        hm[iy, ix] = 1.0
        reg[:, iy, ix] = (cx - ix, cy - iy, w / S, h / S)
        msk[iy, ix] = 1
    return hm, reg, msk


class Batches(torch.utils.data.IterableDataset):
    def __init__(self, start, steps, bs, p_mosaic=0.0, p_rot=0.0, max_rot=0.0, pastes=3):
        self.start, self.steps, self.bs = start, steps, bs
        self.p_mosaic, self.p_rot, self.max_rot, self.pastes = p_mosaic, p_rot, max_rot, pastes

    def __iter__(self):
        items = frames('train')
        real_boxes = [tuple(v * 0.4 for v in b) for _, bb in items for b in bb]
        for step in range(self.start, self.steps):
            rng = np.random.default_rng([SEED, step])
            xs, hs, rs, ms = [], [], [], []
            for _ in range(self.bs):
                x, boxes = sample(rng, items[int(rng.integers(len(items)))], real_boxes, items, self.p_mosaic, self.p_rot, self.max_rot, self.pastes)
                h, r, m = targets(boxes)
                xs.append(x); hs.append(h); rs.append(r); ms.append(m)
            yield step, *(torch.from_numpy(np.stack(a)) for a in (xs, hs, rs, ms))


def loss_fn(ph, pb, hm, reg, msk):
    ph = ph[:, 0].clamp(1e-4, 1 - 1e-4)
    pos = hm.eq(1).float()
    neg_w = torch.pow(1 - hm, 4)
    # unlabelled visible plates: soften the push-down of confident peaks far from any box
    far = (hm < 0.05).float() * (ph.detach() > 0.4).float()
    neg_w = neg_w * (1 - 0.75 * far)
    pl = -(torch.log(ph) * torch.pow(1 - ph, 2) * pos).sum()
    nl = -(torch.log(1 - ph) * torch.pow(ph, 2) * neg_w * (1 - pos)).sum()
    npos = pos.sum().clamp(min=1)
    m = msk[:, None]
    off = (torch.abs(pb[:, :2] - reg[:, :2]) * m).sum() / npos
    size = (torch.abs(pb[:, 2:] - reg[:, 2:]) * m).sum() / npos
    return (pl + nl) / npos + off + 0.1 * size, (pl + nl) / npos, size


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--steps', type=int, default=3000)
    ap.add_argument('--bs', type=int, default=8)
    ap.add_argument('--lr', type=float, default=3e-3)
    ap.add_argument('--export-every', type=int, default=0)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--p-mosaic', type=float, default=0.0,
                    help='share of samples built as a 2x2 mosaic of shrunk frames (0: the committed recipe)')
    ap.add_argument('--p-rot', type=float, default=0.0, help='share of samples turned (0: the committed recipe)')
    ap.add_argument('--max-rot', type=float, default=25.0, help='largest turn, degrees (normal, sigma half of it)')
    ap.add_argument('--pastes', type=int, default=3, help='most synthetic plates pasted into a sample (0 to this many)')
    ap.add_argument('--run', default='detector', help='folder under runs/ for checkpoints')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(SEED)
    d = os.path.join(plates.WORK, a.run)
    os.makedirs(d, exist_ok=True)
    model = models.Detector()
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=1e-4)
    start = 0
    last = os.path.join(d, 'last.pt')
    if os.path.exists(last):
        ck = torch.load(last, map_location='cpu')
        model.load_state_dict(ck['model']); opt.load_state_dict(ck['opt']); start = ck['step']
        print('resumed at step', start, flush=True)

    def lr_at(s):
        w = 100
        return a.lr * (s / w if s < w else 0.5 * (1 + math.cos(math.pi * (s - w) / max(1, a.steps - w))) * 0.97 + 0.03)

    dl = torch.utils.data.DataLoader(Batches(start, a.steps, a.bs, a.p_mosaic, a.p_rot, a.max_rot, a.pastes), batch_size=None, num_workers=1, prefetch_factor=4)
    t0, acc, n = time.time(), np.zeros(3), 0
    model.train()
    for step, x, hm, reg, msk in dl:
        for g in opt.param_groups:
            g['lr'] = lr_at(step)
        ph, pb = model(x)
        loss, hl, sl = loss_fn(ph, pb, hm, reg, msk)
        opt.zero_grad(); loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        opt.step()
        acc += (loss.item(), hl.item(), sl.item()); n += 1
        s1 = step + 1
        if s1 % 25 == 0:
            print('step %d loss %.3f heat %.3f size %.3f lr %.2e %.2f s/step' % ((s1, *(acc / n), lr_at(step), (time.time() - t0) / n)), flush=True)
            acc, n, t0 = np.zeros(3), 0, time.time()
        if s1 % 100 == 0 or s1 == a.steps:
            ck = dict(model=model.state_dict(), opt=opt.state_dict(), step=s1, args=vars(a))
            torch.save(ck, last + '.tmp'); os.replace(last + '.tmp', last)
            torch.save(dict(model=model.state_dict(), step=s1), os.path.join(d, 'best.pt'))
            if a.export_every and (s1 % a.export_every == 0 or s1 == a.steps):
                import export
                try:
                    export.export_detector(os.path.join(d, 'best.pt'), out=None if a.run == 'detector'
                                           else os.path.join(d, 'plate-detector.onnx'))
                except Exception as e:
                    print('export failed:', e, flush=True)


if __name__ == '__main__':
    main()
