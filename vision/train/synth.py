"""Synthetic number plates for training the reader and the detector.

UK plates are laid out like Charles Wright 2001 on a 520x111 mm plate: characters 79 mm tall and
50 mm wide (narrower for 1), 11 mm between characters, 33 mm between groups; front white / rear
yellow, black characters. Formats: current (AB12 CDE), prefix (A123 BCD), suffix (ABC 123D),
dateless (ABC 123 / 1234 AB), Northern Ireland (ABZ 1234), and two-line (motorcycle / square)
plates. Foreign EU-style plates (blue band, DIN font, random layouts such as Romanian B 21 GSB)
so that `--region any` reads them. Glyph faces: procedural CW2001-shaped faces (cwface.py) for
55 % of UK plates, otherwise Debian fonts stretched into the CW2001 box; stroke and spacing jitter.
Reader samples: a third of the plates framed in a holder (holder), placed into real dash-cam
scenes, boxed like the detector and degraded down to a legibility floor.

Everything is driven by a numpy Generator, so a seed reproduces a sample stream exactly.
"""
import glob
import os

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

import cwface
import plates

FONT_DIRS = ['/usr/share/fonts/truetype/roadgeek', '/usr/share/fonts/truetype/opendin',
             '/usr/share/fonts/truetype/dejavu']
UK_FONTS = ['RG2014C.ttf', 'RG2014D.ttf', 'RG2014E.ttf', 'RG2014EEM.ttf', 'OSP-DIN.ttf',
            'DejaVuSansCondensed-Bold.ttf', 'DejaVuSans-Bold.ttf']
EU_FONTS = ['OSP-DIN.ttf', 'RG2014C.ttf', 'RG2014D.ttf', 'DejaVuSansCondensed-Bold.ttf',
            'DejaVuSansCondensed.ttf']

L_ALL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'
L_CUR = 'ABCDEFGHJKLMNOPRSTUVWXYZ'          # no I, Q in current-format random letters
L_GB = 'ABCDEFGHJKLMNOPRSTUVWXY'            # no I, Q, Z: memory tags, prefix / suffix / dateless letters
L_AREA = 'ABCDEFGHKLMNOPRSVWY'              # first letter of current-format memory tag
L_PREFIX = 'ABCDEFGHJKLMNPRSTVWXY'          # year letters (no I O Q U Z)
L_NI = 'ABCDEFGHJKLMNOPRSTUVWXY'
NI_CODES = ['IA', 'IB', 'IG', 'IJ', 'IL', 'IW', 'JI', 'AZ', 'BZ', 'CZ', 'DZ', 'EZ', 'FZ', 'GZ',
            'HZ', 'JZ', 'KZ', 'LZ', 'MZ', 'NZ', 'OI', 'PZ', 'RZ', 'SZ', 'TZ', 'UI', 'UZ', 'VZ',
            'WZ', 'XI', 'XZ', 'YZ']
DIG = '0123456789'
CW_VARIANTS = 32     # CW2001-shaped face variants (cwface.py)
P_CW = 0.55          # share of UK plates drawn in them
SMALL_W = (45, 110)  # reader_sample's p_small width range, px
LEGIBLE = True       # reader samples keep to the legibility floor (see photometric)


def _font_path(name):
    for d in FONT_DIRS:
        p = os.path.join(d, name)
        if os.path.exists(p):
            return p
    return None


class Glyphs:
    """Tight glyph masks (uint8, 0..255) per font, rendered once at 160 px."""

    def __init__(self, names):
        self.fonts = []
        for n in names:
            p = _font_path(n)
            if p is None:
                continue
            f = ImageFont.truetype(p, 160)
            g = {}
            for c in plates.CHARS + '-':
                im = Image.new('L', (220, 240), 0)
                ImageDraw.Draw(im).text((20, 20), c, font=f, fill=255)
                a = np.array(im)
                ys, xs = np.nonzero(a > 40)
                g[c] = a[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
            self.fonts.append((n, g))
        if names is UK_FONTS:
            # procedural CW2001-shaped faces (cwface.py), as many as the font faces together
            self.cw = cwface.faces(CW_VARIANTS)
        else:
            self.cw = []
        if not self.fonts:
            raise SystemExit('no fonts: apt-get install fonts-roadgeek fonts-opendin fonts-dejavu-core')


_UK = None
_EU = None


def glyphs():
    global _UK, _EU
    if _UK is None:
        _UK = Glyphs(UK_FONTS)
        _EU = Glyphs(EU_FONTS)
    return _UK, _EU


def pick(rng, s, n=1):
    return ''.join(s[i] for i in rng.integers(0, len(s), n))


def uk_text(rng):
    """(groups, kind): groups is the list of character groups as printed; every mark is one
    app/vrm classifies as a UK mark (DVLA INF104: no I, Q or Z in memory tags or in prefix,
    suffix and dateless letters)."""
    r = rng.random()
    if r < 0.45:
        age = int(rng.integers(2, 26)) if rng.random() < 0.5 else int(rng.integers(51, 76))
        return [pick(rng, L_AREA) + pick(rng, L_GB) + '%02d' % age, pick(rng, L_CUR, 3)], 'current'
    if r < 0.62:
        return [pick(rng, L_PREFIX) + str(int(rng.integers(1, 1000))), pick(rng, L_GB, 3)], 'prefix'
    if r < 0.75:
        return [pick(rng, L_GB, 3), str(int(rng.integers(1, 1000))) + pick(rng, L_PREFIX)], 'suffix'
    if r < 0.87:
        lt = pick(rng, L_GB, int(rng.integers(1, 4)))
        nd = int(rng.integers(1, 5))
        if len(lt) == 3:     # ABC 1234 / 1234 ABC are Northern Irish only
            nd = min(nd, 3)
        dg = str(int(rng.integers(1, 10 ** nd)))
        return ([lt, dg] if rng.random() < 0.6 else [dg, lt]), 'dateless'
    ni = pick(rng, L_NI) + NI_CODES[int(rng.integers(len(NI_CODES)))]
    if rng.random() < 0.3:
        ni = ni[1:]
    return [ni, str(int(rng.integers(1, 10000)))], 'ni'


def eu_text(rng):
    r = rng.random()
    if r < 0.45:   # Romanian: county, 2-3 digits, 3 letters
        c = 'B' if rng.random() < 0.4 else pick(rng, L_ALL.replace('Q', ''), 2)
        d = '%02d' % rng.integers(1, 100) if (c != 'B' or rng.random() < 0.6) else '%03d' % rng.integers(100, 1000)
        return [c, d, pick(rng, L_ALL.replace('Q', ''), 3)], 'RO'
    if r < 0.6:    # German-ish: 1-3 letters, 1-2 letters, 1-4 digits
        return [pick(rng, L_ALL, int(rng.integers(1, 4))), pick(rng, L_ALL, int(rng.integers(1, 3))),
                str(int(rng.integers(1, 10000)))], 'D'
    if r < 0.72:   # French-ish AB-123-CD
        return [pick(rng, L_ALL, 2), '-', '%03d' % rng.integers(1, 1000), '-', pick(rng, L_ALL, 2)], 'F'
    if r < 0.82:   # Dutch-ish 12-ABC-3
        return [pick(rng, DIG, 2), '-', pick(rng, L_ALL, 3), '-', pick(rng, DIG, 1)], 'NL'
    groups = []    # random alphanumeric groups
    for _ in range(int(rng.integers(1, 4))):
        groups.append(pick(rng, DIG + L_ALL, int(rng.integers(1, 5))))
    return groups, pick(rng, L_ALL, int(rng.integers(1, 3)))


def _stretch(m, w, h):
    return cv2.resize(m, (max(1, int(round(w))), max(1, int(round(h)))), interpolation=cv2.INTER_AREA)


def _colour_plate(mask, bg, fg, rng):
    """mask float 0..1 (1 = ink) -> BGR uint8."""
    bg = np.array(bg, np.float32)
    fg = np.array(fg, np.float32)
    m = mask[..., None]
    img = bg * (1 - m) + fg * m
    # shading gradient
    H, W = mask.shape
    gx = np.linspace(-1, 1, W)[None, :, None] * rng.uniform(-25, 25)
    gy = np.linspace(-1, 1, H)[:, None, None] * rng.uniform(-25, 25)
    return np.clip(img + gx + gy, 0, 255).astype(np.uint8)


def ink_hull(mask, ink):
    """Appends to ink (a list, if given) the convex hull (n x 2, plate pixels) of the ink of the
    mark's characters (mask > 0.5), not of the band, print or screws drawn after: its corners
    are ink, so they stay the mark's extremes however the plate is turned."""
    if ink is None:
        return
    ys, xs = np.nonzero(mask > 0.5)
    if not len(xs):
        h, w = mask.shape
        xs, ys = np.array([0, w, w, 0]), np.array([0, 0, h, h])
    ink.append(cv2.convexHull(np.stack([xs, ys], 1).astype(np.float32)).reshape(-1, 2))


def render_uk(rng, k=1.0, two_line=None, tags=None, ink=None):
    """-> (BGR plate image, text). k = px per mm. tags (a list), if given, gets the face kind;
    ink (a list), if given, the hull of the characters' ink (ink_hull)."""
    uk, _ = glyphs()
    cw = rng.random() < P_CW
    fname, g = (uk.cw if cw else uk.fonts)[int(rng.integers(len(uk.cw if cw else uk.fonts)))]
    groups, kind = uk_text(rng)
    if tags is not None:
        tags.append('cw-face' if cw else 'font-face')
    text = ''.join(groups)
    if two_line is None:
        two_line = rng.random() < 0.15
    if tags is not None and two_line:
        tags.append('two-line')
    cwid, ch = 50 * rng.uniform(0.92, 1.05), 79 * rng.uniform(0.95, 1.03)
    gap, ggap = 11 * rng.uniform(0.8, 1.2), 33 * rng.uniform(0.8, 1.2)
    if two_line:
        # motorcycle / square plates: 64 x 44 mm characters, 229 x 178 mm or 279 x 203 mm plate
        cwid, ch, gap = 44 * rng.uniform(0.92, 1.05), 64 * rng.uniform(0.95, 1.03), 10 * rng.uniform(0.8, 1.2)
        lines = groups
        PW, PH = (229, 178) if rng.random() < 0.6 else (279, 203)
    else:
        lines = [groups]
        PW, PH = 520, 111
    PWp, PHp = int(PW * k), int(PH * k)
    # a UK identifier or green (zero-emission) flash band on the left of a one-line plate, the
    # characters laid out in the rest (a real plate with a band has its text beside it, so the
    # reader must see a band next to a full mark, not only beside short ones)
    band = None
    if not two_line and rng.random() < 0.3:
        band = (rng.uniform(100, 160), rng.uniform(50, 90), rng.uniform(0, 40)) if rng.random() < 0.5 else \
            (rng.uniform(30, 60), rng.uniform(100, 140), rng.uniform(0, 40))
    left = rng.uniform(40, 52) if band else 0.0
    mask = np.zeros((PHp, PWp), np.float32)
    nl = len(lines)
    lh = PH / nl
    spans = []      # (x0, x1, y0, y1) of each character, mm: where fittings must not go
    for li, line in enumerate(lines):
        gl = line if isinstance(line, list) else [line]
        widths = []
        for gi, grp in enumerate(gl):
            for ci, c in enumerate(grp):
                if cw:      # the face's own cell widths (1 and I narrow, as drawn)
                    widths.append(ch * g[c].shape[1] / g[c].shape[0] * cwid / 50)
                else:
                    widths.append(cwid * (0.45 if c == '1' else 0.3 if c == 'I' else 1.0))
                widths.append(gap if ci < len(grp) - 1 else (ggap if gi < len(gl) - 1 else 0))
        tot = sum(widths)
        scale = min(1.0, (PW - left - 24) / tot)
        x = left + (PW - left - tot * scale) / 2 + rng.normal(0, 3)
        y0 = li * lh + (lh - ch) / 2 + rng.normal(0, 1.5)
        wi = 0
        for gi, grp in enumerate(gl):
            for ci, c in enumerate(grp):
                w = widths[wi] * scale
                gm = _stretch(g[c], w * k, ch * k).astype(np.float32) / 255
                xx, yy = int(round(x * k)), int(round((y0 + rng.normal(0, 0.6)) * k))
                hh, ww = gm.shape
                yy = max(0, min(PHp - hh, yy))
                xx = max(0, min(PWp - ww, xx))
                mask[yy:yy + hh, xx:xx + ww] = np.maximum(mask[yy:yy + hh, xx:xx + ww], gm)
                spans.append((xx / k, (xx + ww) / k, yy / k, (yy + hh) / k))
                x += w + widths[wi + 1] * scale
                wi += 2
    mask = _stroke_jitter(mask, k, rng)
    ink_hull(mask, ink)
    rear = rng.random() < 0.5
    bg = (rng.uniform(0, 40), rng.uniform(180, 225), rng.uniform(220, 255)) if rear else \
        (rng.uniform(215, 255),) * 3
    fg = (rng.uniform(0, 50),) * 3
    img = _colour_plate(mask, bg, fg, rng)
    if band:
        bw = int(left * k)
        img[:, :bw] = np.array(band, np.uint8)
        if rng.random() < 0.85:   # a bare green flash has no letters
            _small_text(img[:, :bw], 'UK' if rng.random() < 0.5 else 'GB', rng)
    _fittings(img, k, spans, left, bg, rng)
    img = _border(img, k, rng)
    return img, text


def _fittings(img, k, spans, left, paper, rng):
    """What a real UK plate carries besides its mark, none of it to be read: the supplier's name
    and the BS AU 145e mark in small print along the bottom edge, and two fixing screws (caps in
    the plate's colour, chrome or black heads) at the ends or in a gap between characters."""
    PH, PW = img.shape[0] / k, img.shape[1] / k
    bottom = max(y1 for _, _, _, y1 in spans)
    if rng.random() < 0.5 and PH - bottom > 6:
        hgt = min(rng.uniform(4, 7), PH - bottom - 1.5)
        ink = (int(rng.uniform(20, 90)),) * 3
        f = cv2.FONT_HERSHEY_SIMPLEX
        sc = hgt * k / 22.0           # Hershey simplex capitals are ~22 px tall at scale 1
        y = int(round((bottom + (PH - bottom + hgt) / 2) * k))
        name = ''.join(chr(int(c)) for c in rng.integers(65, 91, int(rng.integers(5, 14))))
        (tw, _), _ = cv2.getTextSize(name, f, sc, 1)
        cv2.putText(img, name, (int((PW * k - tw) / 2 + rng.normal(0, 20 * k)), y), f, sc, ink, 1, cv2.LINE_AA)
        (tw, _), _ = cv2.getTextSize('BS AU 145e', f, sc, 1)
        cv2.putText(img, 'BS AU 145e', (int(PW * k - tw - rng.uniform(6, 20) * k), y), f, sc, ink, 1, cv2.LINE_AA)
    if rng.random() < 0.4:
        r = rng.uniform(4, 7)
        look = rng.random()
        cap = tuple(int(c) for c in paper) if look < 0.5 else \
            (int(rng.uniform(150, 220)),) * 3 if look < 0.8 else (int(rng.uniform(10, 50)),) * 3
        # free x ranges at the middle height: plate ends and gaps wide enough for a screw
        xs = sorted((x0, x1) for x0, x1, y0, y1 in spans if y0 < PH / 2 < y1) or [(PW / 2, PW / 2)]
        gaps = [(left + 3, xs[0][0] - 1), (xs[-1][1] + 1, PW - 3)] + \
            [(a[1] + 1, b[0] - 1) for a, b in zip(xs, xs[1:])]
        free = [(a, b) for a, b in gaps if b - a > 2 * r + 2]
        if len(free) >= 2:
            ends = [free[0], free[1]] if rng.random() < 0.7 or len(free) == 2 else \
                [free[int(i)] for i in rng.choice(len(free), 2, replace=False)]
            for a, b in ends:
                cx, cy = rng.uniform(a + r, b - r), PH / 2 + rng.normal(0, 3)
                c = (int(round(cx * k * 16)), int(round(cy * k * 16)))
                cv2.circle(img, c, int(round(r * k * 16)), cap, -1, cv2.LINE_AA, 4)
                if look >= 0.5:       # a metal head's rim
                    cv2.circle(img, c, int(round(r * k * 16)), (int(rng.uniform(60, 120)),) * 3, 1, cv2.LINE_AA, 4)


def _stroke_jitter(mask, k, rng):
    r = rng.normal(0, 1.2) * k
    if r > 0:       # ink spread, underexposure and blur make strokes bolder more often than thinner
        r *= 1.4
    n = int(round(abs(r)))
    if n >= 1:
        ker = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * n + 1, 2 * n + 1))
        mask = cv2.dilate(mask, ker) if r > 0 else cv2.erode(mask, ker)
    return mask


def _small_text(region, s, rng):
    h, w = region.shape[:2]
    f = cv2.FONT_HERSHEY_SIMPLEX
    sc = max(0.2, w / 60.0)
    (tw, th), _ = cv2.getTextSize(s, f, sc, 1)
    cv2.putText(region, s, (max(0, (w - tw) // 2), int(h * 0.85)), f, sc, (255, 255, 255),
                max(1, int(sc * 2)), cv2.LINE_AA)


def _border(img, k, rng):
    if rng.random() < 0.4:
        t = max(1, int(rng.uniform(1, 4) * k))
        cv2.rectangle(img, (t, t), (img.shape[1] - 1 - t, img.shape[0] - 1 - t),
                      (int(rng.uniform(0, 60)),) * 3, t)
    return img


def render_eu(rng, k=1.0, ink=None):
    _, eu = glyphs()
    fname, g = eu.fonts[int(rng.integers(len(eu.fonts)))]
    groups, cc = eu_text(rng)
    text = ''.join(c for c in ''.join(groups) if c != '-')
    PW, PH = 520, 110
    band = 40 if rng.random() < 0.85 else 0
    ch = 75 * rng.uniform(0.92, 1.04)
    aspect = rng.uniform(0.5, 0.62)
    gap, ggap = 4 * rng.uniform(0.5, 1.8), 22 * rng.uniform(0.6, 1.4)
    items = []
    for gi, grp in enumerate(groups):
        for ci, c in enumerate(grp):
            w = ch * aspect * (0.45 if c in '1I' else (0.5 if c == '-' else 1.0))
            items.append((c, w, gap if ci < len(grp) - 1 else (ggap if gi < len(groups) - 1 else 0)))
    tot = sum(w + s for _, w, s in items)
    avail = PW - band - 20
    scale = min(1.0, avail / tot)
    PWp, PHp = int(PW * k), int(PH * k)
    mask = np.zeros((PHp, PWp), np.float32)
    x = band + 10 + (avail - tot * scale) / 2
    y0 = (PH - ch) / 2
    for c, w, s in items:
        if c == '-':
            hh = max(1, int(8 * k))
            xx, yy = int(x * k), int((PH / 2 - 4) * k)
            mask[yy:yy + hh, xx:xx + int(w * scale * k)] = 1
        else:
            gm = _stretch(g[c], w * scale * k, ch * k).astype(np.float32) / 255
            xx, yy = int(round(x * k)), int(round(y0 * k))
            hh, ww = gm.shape
            xx = max(0, min(PWp - ww, xx))
            yy = max(0, min(PHp - hh, yy))
            mask[yy:yy + hh, xx:xx + ww] = np.maximum(mask[yy:yy + hh, xx:xx + ww], gm)
        x += (w + s) * scale
    mask = _stroke_jitter(mask, k, rng)
    ink_hull(mask, ink)
    bg = (rng.uniform(215, 255),) * 3 if (cc != 'NL' or rng.random() < 0.3) else \
        (rng.uniform(0, 40), rng.uniform(180, 225), rng.uniform(220, 255))
    img = _colour_plate(mask, bg, (rng.uniform(0, 50),) * 3, rng)
    if band:
        bw = int(band * k)
        img[:, :bw] = np.array((rng.uniform(130, 200), rng.uniform(40, 90), rng.uniform(0, 40)), np.uint8)
        _small_text(img[:, :bw], cc if len(cc) <= 2 else 'EU', rng)
    img = _border(img, k, rng)
    return img, text


def render_plate(rng, p_eu=0.3, tags=None, ink=None):
    k = rng.uniform(0.7, 1.0)
    if rng.random() < p_eu:
        return render_eu(rng, k, ink=ink)
    return render_uk(rng, k, tags=tags, ink=ink)


# ---------------------------------------------------------------- scene + photometric augment

def place_plate(rng, plate, bg, target_w):
    """Warp plate onto bg (BGR, modified copy) with width ~target_w px, random pose.
    Returns (img, quad[4,2]) with quad the plate's corners in bg pixels."""
    H, W = bg.shape[:2]
    ph, pw = plate.shape[:2]
    tw = target_w
    th = tw * ph / pw * rng.uniform(0.9, 1.12)
    cx = rng.uniform(tw / 2 + 2, W - tw / 2 - 2) if W > tw + 4 else W / 2
    cy = rng.uniform(th / 2 + 2, H - th / 2 - 2) if H > th + 4 else H / 2
    return _warp_onto(rng, plate, bg, tw, th, (cx, cy), cv2.INTER_AREA if tw < pw else cv2.INTER_LINEAR)


def place_plate_at(rng, plate, bg, target_w, centre):
    """Like place_plate but at a given centre (bg pixels)."""
    ph, pw = plate.shape[:2]
    th = target_w * ph / pw * rng.uniform(0.9, 1.12)
    return _warp_onto(rng, plate, bg, target_w, th, centre, cv2.INTER_AREA)


def _warp_onto(rng, plate, bg, tw, th, centre, flags):
    """plate warped to a tw x th quad about centre, in a random pose (roll, yaw, shear), blended
    over a copy of bg -> (img, quad)."""
    H, W = bg.shape[:2]
    ph, pw = plate.shape[:2]
    ang = np.deg2rad(rng.normal(0, 3))
    yaw = rng.normal(0, 0.08)      # horizontal foreshortening of one side
    shear = rng.normal(0, 0.05)
    pts = np.array([[-tw / 2, -th / 2], [tw / 2, -th / 2], [tw / 2, th / 2], [-tw / 2, th / 2]], np.float32)
    pts[:, 0] += pts[:, 1] * shear
    pts[1:3, 1] *= (1 + yaw)
    pts[[0, 3], 1] *= (1 - yaw)
    R = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]], np.float32)
    quad = pts @ R.T + np.array(centre, np.float32)
    src = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32)
    M = cv2.getPerspectiveTransform(src, quad.astype(np.float32))
    warped = cv2.warpPerspective(plate, M, (W, H), flags=flags)
    m = cv2.warpPerspective(np.full((ph, pw), 255, np.uint8), M, (W, H))
    a = (m.astype(np.float32) / 255)[..., None]
    out = (bg.astype(np.float32) * (1 - a) + warped.astype(np.float32) * a).astype(np.uint8)
    return out, quad


def motion_blur(img, rng, max_len=None):
    L = int(rng.integers(3, 9))
    if max_len is not None:
        L = min(L, max_len)
    ker = np.zeros((L, L), np.float32)
    ker[L // 2] = 1
    M = cv2.getRotationMatrix2D((L / 2 - 0.5, L / 2 - 0.5), rng.uniform(-30, 30), 1)
    ker = cv2.warpAffine(ker, M, (L, L))
    ker /= max(ker.sum(), 1e-6)
    return cv2.filter2D(img, -1, ker)


# Legibility floor (photometric with char_h): a plate a person could still read. Without it the
# conditions compound into crops nobody can read (an 8 px tall plate under an 8 px motion blur,
# night x low contrast x haze leaving 5 grey levels of ink against paper under noise of 12), which
# are label noise in training (they teach the reader to guess) and impossible items in the test.
MIN_CONTRAST = 0.15      # product of the night, contrast and haze gains (ink/paper ~180 levels at 1)
BLUR_PER_CHAR = 0.3      # motion blur length <= this x character height (px; ~ half a character's
                         # width, under two strokes), at least 3 px
SIGMA_PER_CHAR = 0.12    # focus blur sigma <= this x character height (px), at least 0.4 px
NOISE_PER_CONTRAST = 0.25  # noise sigma <= this x the ink/paper difference left
MAX_GLARE = 130          # bloom peak (grey levels) that leaves ink darker than saturated paper
MIN_PAPER = 40           # the brightest tenth of the crop after exposure (not crushed to black)
JPEG_SMALL = (12, 40)    # characters under 12 px tall: JPEG quality at least 40 (8x8 blocks)
CUT_SIDE = 0.1           # reader_sample: the characters' ink may run past the crop's sides by at
                         # most this x character height (a sliver of a stroke: more, and the end
                         # character is gone or becomes another, 8 a 3, W a V),
CUT_TOP = 0.25           # and past its top or bottom by this (more, and E/F, O/U, 8/9 part);
                         # a crop cutting off more is one no one can read exactly (redrawn)


def photometric(img, rng, strength=1.0, tags=None, char_h=None):
    """Colour casts, lighting, night/IR, glare, dirt, blur, noise, JPEG on a BGR uint8 crop.
    tags (a list), if given, gets the name of each condition applied (for split figures).
    char_h (character height in crop pixels), if given, bounds the degradations to the legibility
    floor above; the draws from rng are the same either way."""
    tag = tags.append if tags is not None else (lambda _: None)
    legible = char_h is not None
    f = img.astype(np.float32)
    h, w = f.shape[:2]
    gain = 1.0                 # the ink/paper contrast left, as a fraction of the plate's own
    r = rng.random()
    if r < 0.12 * strength:    # night: dark, headlight-lit plate, noise
        g = rng.uniform(0.15, 0.45)
        f = f * g + rng.uniform(0, 15)
        gain *= g
        tag('night')
    elif r < 0.2 * strength:   # IR look: grey, plate bright
        g = cv2.cvtColor(np.clip(f, 0, 255).astype(np.uint8), cv2.COLOR_BGR2GRAY).astype(np.float32)
        f = np.repeat((g * rng.uniform(1.0, 1.6))[..., None], 3, 2)
        tag('ir')
    if rng.random() < 0.6:     # colour cast (the real frames are pink / purple)
        f = f * np.array([rng.uniform(0.8, 1.25), rng.uniform(0.7, 1.05), rng.uniform(0.85, 1.3)], np.float32)
    g = rng.uniform(0.6, 1.3)
    f = f * g + rng.uniform(-40, 40)              # contrast / brightness
    gain *= g
    if legible:
        hi = np.percentile(f, 90)
        if hi < MIN_PAPER:
            f += MIN_PAPER - hi
    if rng.random() < 0.25:   # low contrast haze
        g, b = rng.uniform(0.4, 0.8), rng.uniform(30, 120)
        if legible:
            g = min(1.0, max(g, MIN_CONTRAST / gain))
        f = f * g + b
        gain *= g
        tag('haze')
    if legible and gain < MIN_CONTRAST:   # night x low contrast without haze: lift around the mean
        m = f.mean()
        f = (f - m) * (MIN_CONTRAST / gain) + m
        gain = MIN_CONTRAST
    if rng.random() < 0.15 * strength:   # glare / headlight bloom
        tag('glare')
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        s = rng.uniform(0.1, 0.5) * w
        a = rng.uniform(60, 200)
        if legible:
            a = min(a, MAX_GLARE)
        f = f + a * np.exp(-((xx - cx) ** 2 + ((yy - cy) * 2) ** 2) / (2 * s * s))[..., None]
    if rng.random() < 0.2 * strength:    # dirt blobs
        tag('dirt')
        for _ in range(int(rng.integers(1, 6))):
            m = np.zeros((h, w), np.float32)
            cv2.circle(m, (int(rng.uniform(0, w)), int(rng.uniform(0, h))), int(rng.uniform(1, max(2, h / 4))), 1, -1)
            m = cv2.GaussianBlur(m, (0, 0), max(0.5, h / 20))
            f = f * (1 - m[..., None] * rng.uniform(0.15, 0.4))
    if rng.random() < 0.08 * strength:   # partial occlusion at an edge (towbar, bumper, wiper)
        tag('occluded')
        t = int(rng.uniform(0.05, 0.2) * h)
        if rng.random() < 0.5:
            f[h - t:] = rng.uniform(0, 120)
        else:
            x0 = int(rng.uniform(0, w))
            f[:, x0:x0 + max(1, int(0.02 * w))] = rng.uniform(0, 80)
    img = np.clip(f, 0, 255).astype(np.uint8)
    r = rng.random()
    if r < 0.25 * strength:
        img = motion_blur(img, rng, max(3, int(BLUR_PER_CHAR * char_h)) if legible else None)
        tag('motion-blur')
    elif r < 0.5 * strength:
        sg = rng.uniform(0.4, 1.5)
        if legible:
            sg = min(sg, max(0.4, SIGMA_PER_CHAR * char_h))
        img = cv2.GaussianBlur(img, (0, 0), sg)
        tag('focus-blur')
    if rng.random() < 0.6:
        sd = rng.uniform(2, 12)
        if legible:
            sd = min(sd, max(1.0, NOISE_PER_CONTRAST * 180 * gain))
        img = np.clip(img.astype(np.float32) + rng.normal(0, sd, img.shape), 0, 255).astype(np.uint8)
    if rng.random() < 0.6:
        q = int(rng.integers(20, 90))
        if legible and char_h < JPEG_SMALL[0]:
            q = max(q, JPEG_SMALL[1])
        img = cv2.imdecode(cv2.imencode('.jpg', img, [cv2.IMWRITE_JPEG_QUALITY, q])[1], cv2.IMREAD_COLOR)
    return img


def jitter_box(rng, box, sx=0.04, sy=0.08):
    x, y, w, h = box
    x0 = x + rng.normal(0, sx) * w
    x1 = x + w + rng.normal(0, sx) * w
    y0 = y + rng.normal(0, sy) * h
    y1 = y + h + rng.normal(0, sy) * h
    return x0, y0, max(4, x1 - x0), max(3, y1 - y0)


class Backgrounds:
    """Random patches of the training-split dash-cam frames (real scenes)."""

    def __init__(self, files):
        self.imgs = [cv2.imread(os.path.join(plates.DASHCAM, f)) for f in files]
        self.imgs = [i for i in self.imgs if i is not None]

    def patch(self, rng, w, h):
        if not self.imgs or rng.random() < 0.1:
            return np.full((h, w, 3), rng.integers(0, 255, 3), np.uint8)
        im = self.imgs[int(rng.integers(len(self.imgs)))]
        H, W = im.shape[:2]
        s = rng.uniform(0.3, 1.5)
        cw, chh = min(W, int(w / s) + 1), min(H, int(h / s) + 1)
        x, y = int(rng.integers(0, W - cw + 1)), int(rng.integers(0, H - chh + 1))
        return cv2.resize(im[y:y + chh, x:x + cw], (w, h))


def reader_sample(rng, bgs, p_eu=0.3, strength=1.0, tags=None, p_small=0.0):
    """One synthetic reader training example: (float32 [48,192], text).
    strength < 1 gives easier samples (curriculum at the start of training). tags (a list), if
    given, gets the face, the plate's width band and each photometric condition applied.
    Widths are log-uniform over 55-400 px; p_small of the samples (0: no extra draw, the sets
    the evaluations draw stay as they were) are instead log-uniform over SMALL_W, the distant
    plates a patrol car mostly sees and the reader reads worst."""
    ink = []
    plate, text = render_plate(rng, p_eu, tags, ink)
    ph, pw = plate.shape[:2]
    off = (0, 0)
    if P_HOLDER > 0 and rng.random() < P_HOLDER:   # (no draw without holders: older sets stay)
        plate, off = holder(rng, plate)
        ink[0] = ink[0] + np.array(off, np.float32)
        if tags is not None:
            tags.append('holder')
    lo, hi = SMALL_W if p_small > 0 and rng.random() < p_small else (55, 400)
    tw = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
    th = tw * ph / pw
    if tags is not None:
        tags.append('w<80' if tw < 80 else 'w80-160' if tw < 160 else 'w>=160')
    W, H = int(tw * 1.6) + 8, int(th * 2.2) + 8
    bg = bgs.patch(rng, W, H)
    img, quad = place_plate(rng, plate, bg, tw * plate.shape[1] / pw)
    inner = plate_quad(quad, plate.shape, off, (pw, ph))
    x0, y0 = inner.min(0)
    x1, y1 = inner.max(0)
    # the box a detector would give: close to the plate, now and then loose (a detector's box is
    # 10-90 % 0.91-1.10 of the plate's width on the real frames, with a tail past 1.3)
    loose = 2.5 if rng.random() < 0.15 else 1.0
    box = jitter_box(rng, (x0, y0, x1 - x0, y1 - y0), 0.04 * strength * loose, 0.08 * strength * loose)
    cx0, cy0, cx1, cy1 = plates.crop_box(box, img.shape)
    crop = img[cy0:cy1, cx0:cx1]
    # character height in crop pixels: 79 of 111 mm on a one-line plate, 64 of 178-203 mm a line
    # on a two-line one
    char_h = th * (0.71 if pw / ph >= plates.TWO_LINE_ASPECT else 0.34)
    if crop.size == 0 or (LEGIBLE and cut_off(ink[0], plate.shape, quad, (cx0, cy0, cx1, cy1), char_h)):
        if tags is not None:
            del tags[:]
        return reader_sample(rng, bgs, p_eu, strength, tags, p_small)
    if strength >= 1 or rng.random() < strength:   # (no extra draw at full strength)
        crop = photometric(crop, rng, strength, tags, char_h=char_h if LEGIBLE else None)
    return plates.reader_input(crop), text


P_HOLDER = 0.35   # share of reader samples whose plate sits in a holder (reader_sample)


def holder(rng, plate):
    """plate (BGR) framed in a number-plate holder: a surround a few mm wide at the sides and
    top, often wider at the bottom where a dealer's name goes, black plastic, chrome or a
    colour, its inner edge shaded. Real plates very often sit in one, or in the car's dark
    recess, and its inner edge beside the last character is a stroke the reader must not read
    (the held-out night plate B961TAG read B961TAGT). -> (image, (x, y) of the plate in it).
    Margins are in fractions of a 111 mm plate height (one-line: the plate's own; two-line:
    half its width, ~114 mm)."""
    ph, pw = plate.shape[:2]
    u = ph if pw / ph >= plates.TWO_LINE_ASPECT else pw / 2
    side, top = (int(round(u * rng.uniform(0.03, 0.16))) for _ in range(2))
    bottom = int(round(u * (rng.uniform(0.15, 0.35) if rng.random() < 0.4 else rng.uniform(0.03, 0.16))))
    look = rng.random()
    if look < 0.6:
        col = np.full(3, rng.uniform(5, 55))
    elif look < 0.85:
        col = np.full(3, rng.uniform(130, 215))
    else:
        col = rng.uniform(0, 160, 3)
    H, W = ph + top + bottom, pw + 2 * side
    yy = np.linspace(-1, 1, H, dtype=np.float32)[:, None, None]
    img = np.clip(col[None, None, :] * (1 + rng.uniform(0, 0.25) * yy) + rng.normal(0, 4, (H, W, 3)),
                  0, 255).astype(np.uint8)
    if bottom >= 0.15 * u and rng.random() < 0.6:      # the dealer's name in the bottom band
        f = cv2.FONT_HERSHEY_SIMPLEX
        hgt = bottom * rng.uniform(0.35, 0.6)
        sc = hgt / 22.0
        ink = (int(rng.uniform(190, 255)),) * 3 if col.mean() < 110 else (int(rng.uniform(0, 60)),) * 3
        name = ''.join(chr(int(c)) for c in rng.integers(65, 91, int(rng.integers(5, 16))))
        (tw, _), _ = cv2.getTextSize(name, f, sc, 1)
        cv2.putText(img, name, (int((W - tw) / 2), int(ph + top + (bottom + hgt) / 2)), f, sc, ink,
                    max(1, int(round(sc * 1.5))), cv2.LINE_AA)
    img[top:top + ph, side:side + pw] = plate
    edge = max(1, int(round(u * 0.015)))             # the lip's shadow on the plate's edge
    shade = np.clip(col.mean() * 0.4, 0, 60)
    for (y0, y1, x0, x1) in ((top, top + edge, side, side + pw), (top + ph - edge, top + ph, side, side + pw),
                             (top, top + ph, side, side + edge), (top, top + ph, side + pw - edge, side + pw)):
        img[y0:y1, x0:x1] = (img[y0:y1, x0:x1] * 0.5 + shade * 0.5).astype(np.uint8)
    return img, (side, top)


def to_scene(pts, shape, quad):
    """Points (n x 2) of an image of this shape, in the scene where it was placed at quad
    (place_plate)."""
    h, w = shape[:2]
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    M = cv2.getPerspectiveTransform(src, quad.astype(np.float32))
    return cv2.perspectiveTransform(np.asarray(pts, np.float32)[None], M)[0]


def plate_quad(quad, shape, off, size):
    """The corners, in the scene, of a plate of size (w, h) at off in an image of shape placed at
    quad (place_plate); quad itself where nothing frames the plate."""
    if off == (0, 0) and shape[1] == size[0] and shape[0] == size[1]:
        return quad
    (x, y), (pw, ph) = off, size
    return to_scene([[x, y], [x + pw, y], [x + pw, y + ph], [x, y + ph]], shape, quad)


def cut_off(ink, shape, quad, crop, char_h):
    """Whether the crop (x0, y0, x1, y1) cuts off more of the mark than CUT_SIDE x char_h at a
    side or CUT_TOP x char_h at the top or bottom. ink is the hull of the characters in the
    plate image of this shape (ink_hull), quad the plate's corners where it was placed
    (place_plate)."""
    pts = to_scene(ink, shape, quad)
    side, top = CUT_SIDE * char_h, CUT_TOP * char_h
    return (pts[:, 0].min() < crop[0] - side or pts[:, 0].max() > crop[2] + side or
            pts[:, 1].min() < crop[1] - top or pts[:, 1].max() > crop[3] + top)


def real_crops(split='train'):
    """Readable dash-cam boxes of one split: list of (frame BGR, box, text)."""
    sp = plates.load_split()
    cache, out = {}, []
    for r in plates.load_labels():
        if not r['readable'] or sp.get(r['file']) != split:
            continue
        if r['file'] not in cache:
            cache[r['file']] = cv2.imread(os.path.join(plates.DASHCAM, r['file']))
        out.append((cache[r['file']], r['box'], r['text']))
    return out


P_REAL_SMALL = 0.0   # share of real crops seen farther off (train_reader.py --p-real-small)
REAL_SMALL_W = (40, 80)


def shrink(rng, frame, box, tw=None):
    """(frame, box) with the frame around box scaled down so that the plate is tw px wide (None:
    40-80 px at random, at most 0.8 of its own width), as the camera would have seen it farther
    off: real paint, dirt and light at the widths where the reader fails most, which the
    synthetic small plates only imitate. The patch (a box width either side, two heights above
    and below) is area-averaged; the photometric augmentation that follows in training adds
    the blur, noise and JPEG a real distant plate carries. eval_crops.py --width uses it too."""
    x, y, w, h = box
    H, W = frame.shape[:2]
    if tw is None:
        tw = rng.uniform(REAL_SMALL_W[0], min(REAL_SMALL_W[1], 0.8 * w))
    s = tw / w
    px0, py0 = max(0, int(x - w)), max(0, int(y - 2 * h))
    px1, py1 = min(W, int(x + 2 * w) + 1), min(H, int(y + 3 * h) + 1)
    patch = frame[py0:py1, px0:px1]
    size = (max(1, round((px1 - px0) * s)), max(1, round((py1 - py0) * s)))
    small = cv2.resize(patch, size, interpolation=cv2.INTER_AREA)
    return small, ((x - px0) * s, (y - py0) * s, w * s, h * s)


def real_sample(rng, item):
    frame, box, text = item
    strength = 0.5
    if P_REAL_SMALL and box[2] >= REAL_SMALL_W[0] / 0.8 + 5 and rng.random() < P_REAL_SMALL:
        frame, box = shrink(rng, frame, box)
        strength = 0.3    # a real crop scaled down is degraded already: milder still
    b = jitter_box(rng, box, 0.03, 0.06)
    x0, y0, x1, y1 = plates.crop_box(b, frame.shape)
    crop = frame[y0:y1, x0:x1]
    crop = photometric(crop, rng, strength=strength, char_h=0.7 * box[3] if LEGIBLE else None)
    return plates.reader_input(crop), text


if __name__ == '__main__':
    # preview: python3 vision/train/synth.py -> vision/train/runs/synth_preview.png
    rng = np.random.default_rng(0)
    sp = plates.load_split()
    bgs = Backgrounds([f for f, s in sp.items() if s == 'train'])
    rows = []
    for i in range(24):
        x, t = reader_sample(rng, bgs)
        im = (x * 255).astype(np.uint8)
        cv2.putText(im, t, (2, 10), cv2.FONT_HERSHEY_PLAIN, 0.8, 255, 1)
        rows.append(im)
    grid = np.concatenate([np.concatenate(rows[i:i + 4], 1) for i in range(0, 24, 4)], 0)
    os.makedirs(plates.WORK, exist_ok=True)
    cv2.imwrite(os.path.join(plates.WORK, 'synth_preview.png'), grid)
    for i in range(6):
        p, t = render_plate(rng, 0.5)
        cv2.imwrite(os.path.join(plates.WORK, 'plate_%d_%s.png' % (i, t)), p)
    import time
    t0 = time.time()
    for i in range(200):
        reader_sample(rng, bgs)
    print('ms/sample', (time.time() - t0) / 200 * 1000)
