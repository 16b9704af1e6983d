"""Builds the demo drive in testdata/demo/ from the real dash-cam frames.

Every labelled plate box of ../shared/data/plates/dashcam-ro/, and every box of
vision/train/demo_boxes.csv (real plates the labels do not box, checked by eye), gets a synthetic
UK plate (synth.render_uk, the same plate for the same real vehicle) warped onto it and tinted with the
frame's colour cast; each frame is shown for FRAME_S seconds with a slow camera zoom, encoded to a
1280x720 H.264 video. Also written: an NMEA track of the same duration (re-timed from
../shared/data/nmea/nl2008u.log), a hot list hitting some plates (exact, look-alike, wildcard),
and the ground truth of every plate pass.

    /usr/bin/python3 vision/train/demo.py            (deterministic: seed 2026)
"""
import csv
import fnmatch
import os
import shutil
import subprocess
import sys

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import plates  # noqa: E402
import synth  # noqa: E402

SEED = 2026
FPS = 25
FRAME_S = 1.0
W, H = 1280, 720
OUT = os.path.join(plates.ROOT, 'testdata', 'demo')
NMEA_SRC = os.path.join(plates.SHARED, 'nmea', 'nl2008u.log')
LOOK = ['0ODQ', '1IL', '8B', '5S', '2Z', '6G', '4A', '7T']


def lookalike_class(c):
    for g in LOOK:
        if c in g:
            return g[0]
    return c


def composite(frame, plate, box, rng):
    """Warp plate (BGR) onto box (x,y,w,h), tinted like the frame; returns new frame."""
    x, y, w, h = box
    ph, pw = plate.shape[:2]
    # the real box is the plate outline; keep a UK plate's height for the given width
    hh = max(h, w * ph / pw * 0.9)
    cy = y + h / 2
    skew = rng.normal(0, 0.02) * w
    quad = np.float32([[x + skew, cy - hh / 2], [x + w + skew, cy - hh / 2], [x + w - skew, cy + hh / 2],
                       [x - skew, cy + hh / 2]])
    src = np.float32([[0, 0], [pw, 0], [pw, ph], [0, ph]])
    M = cv2.getPerspectiveTransform(src, quad)
    warped = cv2.warpPerspective(plate, M, (W, H), flags=cv2.INTER_AREA).astype(np.float32)
    a = cv2.warpPerspective(np.full((ph, pw), 255, np.uint8), M, (W, H)).astype(np.float32)[..., None] / 255
    # colour cast and brightness of the scene around the box
    x0, y0 = max(0, int(x - w)), max(0, int(y - 2 * h))
    x1, y1 = min(W, int(x + 2 * w)), min(H, int(y + 3 * h))
    m = frame[y0:y1, x0:x1].reshape(-1, 3).astype(np.float32).mean(0)
    tint = m / max(m.mean(), 1.0)
    bright = np.clip(m.mean() / 130.0, 0.55, 1.05)
    warped = warped * tint * bright
    out = frame.astype(np.float32) * (1 - a) + warped * a
    bl = cv2.GaussianBlur(out, (0, 0), 0.7)
    sel = a > 0
    out = np.where(np.broadcast_to(sel, out.shape), bl, out)
    return np.clip(out, 0, 255).astype(np.uint8)


def render_for(key, seed_base):
    rng = np.random.default_rng([SEED, seed_base])
    img, text = synth.render_uk(rng, k=1.0, two_line=False)
    return img, text


def nmea_checksum(body):
    c = 0
    for ch in body:
        c ^= ord(ch)
    return '%02X' % c


def fix(sentence_body):
    return '$%s*%s' % (sentence_body, nmea_checksum(sentence_body))


def build_nmea(duration_s, path):
    """Re-time nl2008u.log: its moving epochs (09:15:03-07, ~9 kn, course ~185) give the sentence
    set, satellite data, speed and course; positions are integrated from that speed and course so
    the track runs for the whole video at 1 Hz."""
    epochs, cur = [], None
    with open(NMEA_SRC, encoding='utf-8', errors='replace') as f:
        for line in f:
            line = line.strip()
            if not line.startswith('$'):
                continue
            if line[3:6] == 'RMC':
                cur = []
                epochs.append(cur)
            if cur is not None:
                cur.append(line.split('*')[0][1:])
    moving = [e for e in epochs if float(e[0].split(',')[7] or 0) > 1.0]
    lat, lon = 48 + 13.0509 / 60, 8 + 24.8699 / 60
    t0 = 9 * 3600 + 15 * 60 + 3
    out = []
    for i in range(int(duration_s) + 1):
        ep = moving[i % len(moving)]
        rmc = ep[0].split(',')
        kn, course = float(rmc[7]), float(rmc[8])
        course = (course + 25 * np.sin(i / 40.0)) % 360  # gentle bends along the road
        if i:
            d = kn * 0.514444
            lat += d * np.cos(np.radians(course)) / 111320.0
            lon += d * np.sin(np.radians(course)) / (111320.0 * np.cos(np.radians(lat)))
        t = t0 + i
        hms = '%02d%02d%02d.000' % (t // 3600, t // 60 % 60, t % 60)
        la = '%02d%07.4f' % (int(lat), (lat - int(lat)) * 60)
        lo = '%03d%07.4f' % (int(lon), (lon - int(lon)) * 60)
        for s in ep:
            p = s.split(',')
            typ = p[0][2:]
            if typ == 'RMC':
                p[1], p[3], p[5], p[8] = hms, la, lo, '%.2f' % course
            elif typ == 'GGA':
                p[1], p[2], p[4] = hms, la, lo
            elif typ == 'GLL':
                p[1], p[3], p[5] = la, lo, hms
            elif typ == 'VTG':
                p[1] = '%.2f' % course
            elif typ == 'ZDA':
                p[1] = hms
            out.append(fix(','.join(p)))
    with open(path, 'w') as f:
        f.write('\r\n'.join(out) + '\r\n')


def plate_key(fn, bi, r):
    return r['text'] or '%s#%d' % (fn, bi)


EXTRA_BOXES = os.path.join(plates.TRAIN_DIR, 'demo_boxes.csv')


def extra_boxes():
    """The rows of demo_boxes.csv as label rows: text is the labelled vehicle the box shows (the
    same synthetic plate then covers it), or empty for a vehicle the labels never read."""
    with open(EXTRA_BOXES) as f:
        lines = [ln for ln in f if not ln.startswith('#')]
    return [dict(file=r['file'], text=(r.get('text') or '').strip().upper(),
                 box=(int(r['x']), int(r['y']), int(r['w']), int(r['h'])), readable=0)
            for r in csv.DictReader(lines)]


def assign_plates():
    """(frames in capture order, {file: label rows}, {vehicle key: (plate BGR, VRM)}): one synthetic
    UK plate per real vehicle (real text), one per box without text; deterministic."""
    rows = plates.load_labels() + extra_boxes()
    frames = sorted({r['file'] for r in rows}, key=plates.frame_time)
    by_file = {}
    for r in rows:
        by_file.setdefault(r['file'], []).append(r)
    plate_of, used = {}, set()
    n = 0
    for fn in frames:
        for bi, r in enumerate(by_file[fn]):
            key = plate_key(fn, bi, r)
            if key not in plate_of:
                while True:
                    n += 1
                    img, text = render_for(key, n)
                    if text not in used:
                        break
                used.add(text)
                plate_of[key] = (img, text)
    return frames, by_file, plate_of


def zoom_matrix(k, seg):
    """The slow zoom of output frame k of a source frame's segment (towards centre-bottom)."""
    z = 1.0 + 0.06 * k / (seg - 1)
    cx, cy = W / 2, H * 0.65
    return np.float32([[z, 0, cx * (1 - z)], [0, z, cy * (1 - z)]])


def main():
    os.makedirs(OUT, exist_ok=True)
    frames, by_file, plate_of = assign_plates()
    rng = np.random.default_rng(SEED)
    seg = int(FPS * FRAME_S)
    video = os.path.join(OUT, 'drive.mp4')
    ff = subprocess.Popen(['ffmpeg', '-loglevel', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'bgr24', '-s', '%dx%d' % (W, H),
                           '-r', str(FPS), '-i', '-', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23',
                           '-maxrate', '1000k', '-bufsize', '2000k', '-pix_fmt', 'yuv420p', '-g', '50',
                           '-movflags', '+faststart', video], stdin=subprocess.PIPE)
    shown = []  # (frame index, [(vrm, box)])
    for fi, fn in enumerate(frames):
        img = cv2.imread(os.path.join(plates.DASHCAM, fn))
        img = cv2.resize(img, (W, H)) if img.shape[:2] != (H, W) else img
        seen = []
        for bi, r in enumerate(by_file[fn]):
            key = plate_key(fn, bi, r)
            pimg, text = plate_of[key]
            img = composite(img, pimg, r['box'], rng)
            seen.append((text, r['box']))
        shown.append((fi, seen))
        for k in range(seg):
            ff.stdin.write(cv2.warpAffine(img, zoom_matrix(k, seg), (W, H), flags=cv2.INTER_LINEAR).tobytes())
    ff.stdin.close()
    if ff.wait() != 0:
        raise SystemExit('ffmpeg failed')
    duration = len(frames) * FRAME_S
    # passes: runs of consecutive shown frames carrying the same VRM
    passes, open_ = [], {}
    for fi, seen in shown:
        texts = {t: b for t, b in seen}
        for t in list(open_):
            if t not in texts:
                passes.append(open_.pop(t))
        for t, b in texts.items():
            if t in open_:
                open_[t]['last'] = fi
                open_[t]['maxw'] = max(open_[t]['maxw'], b[2])
            else:
                open_[t] = dict(vrm=t, first=fi, last=fi, maxw=b[2])
    passes += open_.values()
    passes.sort(key=lambda p: (p['first'], p['vrm']))
    # hot list: pick well-sized plates for each kind
    big = [p for p in passes if p['maxw'] >= 110]
    r2 = np.random.default_rng(SEED + 1)
    order = [big[i] for i in r2.permutation(len(big))]
    entries = []
    for p in order[:3]:
        entries.append(dict(vrm=p['vrm'], category='Stolen vehicle', priority=1, action='Stop and detain',
                            information='Demo: exact hit', markers=''))
    nla = 0
    for p in order[3:]:
        v = p['vrm']
        alts = {'0': 'O', 'O': '0', '1': 'I', 'I': '1', '8': 'B', 'B': '8', '5': 'S', 'S': '5', '2': 'Z', 'Z': '2'}
        idx = [i for i, c in enumerate(v) if c in alts]
        if not idx or nla >= 3:
            continue
        i = idx[0]
        entries.append(dict(vrm=v[:i] + alts[v[i]] + v[i + 1:], category='No insurance', priority=3,
                            action='Check documents', information='Demo: look-alike of the plate on the road',
                            markers=''))
        nla += 1
    rest = [p for p in order[3:] if not any(lookalike_key(p['vrm']) == lookalike_key(e['vrm']) for e in entries)]
    if len(rest) >= 2:
        v = rest[0]['vrm']
        entries.append(dict(vrm=v[:4] + '*', category='Wanted', priority=2, action='Report sighting',
                            information='Demo: wildcard', markers='FIREARMS'))
        v = rest[1]['vrm']
        entries.append(dict(vrm=v[:2] + '?' + v[3:], category='Intelligence', priority=5, action='Note only',
                            information='Demo: single-character wildcard', markers=''))
    with open(os.path.join(OUT, 'hotlist.csv'), 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['vrm', 'category', 'priority', 'action', 'information', 'markers', 'make', 'model', 'colour',
                    'reference', 'expires', 'covert'])
        for i, e in enumerate(entries):
            w.writerow([e['vrm'], e['category'], e['priority'], e['action'], e['information'], e['markers'],
                        'Ford', 'Focus', 'Silver', 'DEMO-%03d' % (i + 1), '2030-12-31', 'false'])
    with open(os.path.join(OUT, 'truth.csv'), 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['vrm', 'first_ms', 'last_ms', 'camera', 'match', 'max_width_px'])
        for p in passes:
            w.writerow([p['vrm'], int(p['first'] * FRAME_S * 1000), int((p['last'] + 1) * FRAME_S * 1000) - 1,
                        'front', match_kind(p['vrm'], entries), p['maxw']])
    build_nmea(duration, os.path.join(OUT, 'drive.nmea'))
    shutil.copy(os.path.join(plates.SHARED, 'nmea', 'COPYING.gpsd'), os.path.join(OUT, 'COPYING.gpsd'))
    shutil.copy(os.path.join(plates.DASHCAM, 'LICENSE'), os.path.join(OUT, 'LICENSE.dashcam'))
    print('demo: %d frames, %.0f s, %d passes, %d hot-list entries, video %d bytes' % (
        len(frames), duration, len(passes), len(entries), os.path.getsize(video)))


def lookalike_key(v):
    return ''.join(lookalike_class(c) for c in v)


def match_kind(vrm, entries):
    kinds = []
    for e in entries:
        pat = e['vrm']
        if '*' in pat or '?' in pat:
            if fnmatch.fnmatchcase(vrm, pat):
                kinds.append('wildcard')
        elif pat == vrm:
            kinds.append('exact')
        elif len(pat) == len(vrm) and lookalike_key(pat) == lookalike_key(vrm) and \
                sum(a != b for a, b in zip(pat, vrm)) <= 2:
            kinds.append('lookalike')
    for k in ('exact', 'lookalike', 'wildcard'):
        if k in kinds:
            return k
    return ''


if __name__ == '__main__':
    main()
