package vision

import (
	"fmt"
	"image"
	"math"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ukanpr/anpr/app"
	"github.com/ukanpr/anpr/app/vrm"
	"gocv.io/x/gocv"
)

// Tracker follows plates across the frames of one camera and votes each
// vehicle pass into one app.Sighting. Front and rear cameras each need their
// own Tracker. It is not safe for concurrent use: one pipeline goroutine
// owns it.
type Tracker struct {
	Camera string
	Region Region           // rules for the voted text (default RegionGB)
	Now    func() time.Time // for the UK rules (default time.Now)

	// MaxMissed is how many consecutive frames a plate may go unseen before
	// its pass ends (default 5).
	MaxMissed int
	// MinFrames is how many frames must read a plate before its pass is
	// reported: a one-frame blip is more often a false detection than a
	// vehicle (default 2).
	MinFrames int
	// EarlyFrames lets a pass be reported before it ends, as soon as this
	// many consecutive frames agree on the text with confidence at least
	// EarlyConfidence; later frames of the pass are absorbed without a second
	// report. 0 reports only when the pass ends (default 3).
	EarlyFrames     int
	EarlyConfidence float64 // default 0.9
	// MinConfidence is the voted confidence below which a pass is not
	// reported: the reader could not make the plate out (distant, blurred,
	// or not a plate at all), and a read it is that unsure of would only
	// be noise in the store and a false alert waiting to happen
	// (default 0.1; negative: report every pass). Unsure counts them.
	MinConfidence float64
	// ForeignConfidence is, in RegionGB, the voted confidence below which
	// a pass whose text is no UK mark is not reported. Foreign vehicles are
	// a small share of UK traffic and the reader reads their plates as
	// surely as UK ones, so an unsure read that breaks every UK layout is
	// far more often a misread (a plate half seen, a sign, a blur) than a
	// foreign plate (default 0.5; negative: the MinConfidence rule alone).
	// However sure the read, a text that is no UK mark and lacks either a
	// letter or a digit is not reported in RegionGB: every UK mark and the
	// standard plates of the countries whose cars the UK sees (all of
	// Europe) carry both, while a sign, a badge, a van's lettering or a
	// phone number, or half a plate, often has only one kind (the rare
	// letters-only vanity plate of a few countries is the price). Unsure
	// counts these passes too.
	ForeignConfidence float64
	// ShortConfidence is the voted confidence below which a pass read as a
	// text of three characters or fewer is not reported. Marks that short
	// (a cherished B 2 or A 30) are a sliver of the traffic, while a piece
	// of a plate (half hidden behind another car, cut by the frame's edge,
	// too small to box whole) or a sign's few characters read that short
	// often, and in RegionGB nearly any two or three letters and digits
	// make a valid dateless mark, so format rules cannot tell them apart
	// (default 0.8; negative: the other rules alone). Unsure counts these
	// passes too.
	ShortConfidence float64
	// MinIoU is the overlap between a track's predicted box and a detection
	// that associates them (default 0.1); closer misses are associated by
	// centre distance when the sizes agree.
	MinIoU float64
	// OverviewWidth is the width of the overview JPEG (default 640).
	OverviewWidth int
	// JPEGQuality of patch and overview (default 85).
	JPEGQuality int
	// TopN candidates on each sighting (default 5).
	TopN int
	// Repeat is how long after a plate was reported the same text is taken
	// for the same pass, lost for a while and found again (occlusion by
	// another vehicle, a run of missed detections, a car stopped ahead at
	// lights), and not reported again (default 30 s of capture time;
	// negative: never).
	Repeat time.Duration

	tracks   []*track
	reported map[string]time.Time // text → capture time of its last report
	unsure   atomic.Int64
	nextID   int64
	init     bool
}

// maxVotes bounds the readings a pass keeps for its vote.
const maxVotes = 250

// vote is one frame's reading of a tracked plate.
type vote struct {
	text       string
	raw        string
	conf       float64
	charConf   []float64
	candidates []app.Candidate
	cut        bool // the box touched the frame's left or right edge
}

type track struct {
	id       int64
	passID   string
	box      image.Rectangle // last seen
	vx, vy   float64         // centre velocity, px per frame
	lastSeq  int64
	lastTime time.Time
	missed   int
	votes    []vote // the latest maxVotes frames' readings
	frames   int    // frames that read the plate
	emitted  bool
	agreeRun int // consecutive frames agreeing with the previous one

	sharp    float64
	patchCut bool     // the patch is of the plate cut by the frame's edge
	patch    gocv.Mat // owned: the sharpest crop so far
	overview gocv.Mat // owned: its frame, downscaled
	bestTime time.Time
	bestBox  image.Rectangle
}

func (tr *track) close() {
	if tr.patch.Ptr() != nil {
		tr.patch.Close()
	}
	if tr.overview.Ptr() != nil {
		tr.overview.Close()
	}
}

func (t *Tracker) defaults() {
	if t.init {
		return
	}
	t.init = true
	if t.Region == "" {
		t.Region = RegionGB
	}
	if t.Now == nil {
		t.Now = time.Now
	}
	if t.MaxMissed <= 0 {
		t.MaxMissed = 5
	}
	if t.MinFrames <= 0 {
		t.MinFrames = 2
	}
	if t.EarlyFrames < 0 {
		t.EarlyFrames = 0
	}
	if t.EarlyConfidence <= 0 {
		t.EarlyConfidence = 0.9
	}
	if t.MinConfidence == 0 {
		t.MinConfidence = DefaultMinConfidence
	}
	if t.ForeignConfidence == 0 {
		t.ForeignConfidence = defaultForeignConfidence
	}
	if t.ShortConfidence == 0 {
		t.ShortConfidence = defaultShortConfidence
	}
	if t.MinIoU <= 0 {
		t.MinIoU = 0.1
	}
	if t.OverviewWidth <= 0 {
		t.OverviewWidth = 640
	}
	if t.JPEGQuality <= 0 {
		t.JPEGQuality = 85
	}
	if t.TopN <= 0 {
		t.TopN = defaultTopN
	}
	if t.Repeat == 0 {
		t.Repeat = 30 * time.Second
	}
	t.reported = map[string]time.Time{}
}

// repeated reports whether s repeats a pass reported shortly before, and
// otherwise remembers it. Old entries are forgotten.
func (t *Tracker) repeated(s app.Sighting, now time.Time) bool {
	if t.Repeat < 0 {
		return false
	}
	for text, at := range t.reported {
		if now.Sub(at) > t.Repeat {
			delete(t.reported, text)
		}
	}
	if at, ok := t.reported[s.Text]; ok && now.Sub(at) <= t.Repeat {
		t.reported[s.Text] = now
		return true
	}
	t.reported[s.Text] = now
	return false
}

// NewTracker returns a tracker for one camera with default settings.
func NewTracker(camera string, region Region) *Tracker {
	return &Tracker{Camera: camera, Region: region, EarlyFrames: 3}
}

// Update adds one frame's plates and returns the passes that ended or
// became certain with it. The tracker does not keep f: it copies the patch
// and overview it needs.
func (t *Tracker) Update(f *Frame, plates []Plate) ([]app.Sighting, error) {
	t.defaults()
	bounds := image.Rect(0, 0, f.Mat.Cols(), f.Mat.Rows())

	// Associate: best-scoring pairs first, each track and plate once.
	type pair struct {
		ti, pi int
		score  float64
	}
	var pairs []pair
	for ti, tr := range t.tracks {
		pred := tr.predict(f.Seq)
		for pi, p := range plates {
			if s := t.match(tr, pred, p); s > 0 {
				pairs = append(pairs, pair{ti, pi, s})
			}
		}
	}
	sort.Slice(pairs, func(i, j int) bool { return pairs[i].score > pairs[j].score })
	usedT := make([]bool, len(t.tracks))
	usedP := make([]bool, len(plates))
	for _, pr := range pairs {
		if usedT[pr.ti] || usedP[pr.pi] {
			continue
		}
		usedT[pr.ti], usedP[pr.pi] = true, true
		if err := t.observe(t.tracks[pr.ti], f, plates[pr.pi]); err != nil {
			return nil, err
		}
	}
	for pi, p := range plates {
		if usedP[pi] {
			continue
		}
		t.nextID++
		tr := &track{
			id:      t.nextID,
			passID:  fmt.Sprintf("%s-%d-%d", t.Camera, f.Time.UnixMilli(), t.nextID),
			box:     p.Box,
			lastSeq: f.Seq,
			sharp:   -1,
		}
		t.tracks = append(t.tracks, tr)
		usedT = append(usedT, true)
		if err := t.observe(tr, f, p); err != nil {
			return nil, err
		}
	}

	var out []app.Sighting
	keep := t.tracks[:0]
	for i, tr := range t.tracks {
		if !usedT[i] {
			tr.missed = int(f.Seq - tr.lastSeq)
		}
		ended := tr.missed > t.MaxMissed
		if !ended && tr.missed > 0 {
			pred := tr.predict(f.Seq)
			area := pred.Dx() * pred.Dy()
			in := pred.Intersect(bounds)
			ended = area > 0 && in.Dx()*in.Dy()*2 < area // left the frame
		}
		switch {
		case ended:
			if s, ok, err := t.finish(tr); err != nil {
				return nil, err
			} else if ok && !t.repeated(s, f.Time) {
				out = append(out, s)
			}
			tr.close()
		default:
			if !tr.emitted && usedT[i] && tr.missed == 0 && t.certain(tr) {
				s, ok, err := t.sighting(tr)
				if err != nil {
					return nil, err
				}
				tr.emitted = true
				if ok && !t.repeated(s, f.Time) {
					out = append(out, s)
				}
			}
			keep = append(keep, tr)
		}
	}
	clear(t.tracks[len(keep):])
	t.tracks = keep
	return out, nil
}

// Flush ends every open pass (end of stream) and returns those worth
// reporting.
func (t *Tracker) Flush() ([]app.Sighting, error) {
	t.defaults()
	var out []app.Sighting
	var firstErr error
	for _, tr := range t.tracks {
		s, ok, err := t.finish(tr)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		if ok && !t.repeated(s, tr.lastTime) {
			out = append(out, s)
		}
		tr.close()
	}
	t.tracks = nil
	return out, firstErr
}

// Close releases the patches of open passes without reporting them.
func (t *Tracker) Close() {
	for _, tr := range t.tracks {
		tr.close()
	}
	t.tracks = nil
}

// Open reports how many passes are being tracked.
func (t *Tracker) Open() int { return len(t.tracks) }

func (tr *track) predict(seq int64) image.Rectangle {
	dt := float64(seq - tr.lastSeq)
	return tr.box.Add(image.Pt(int(math.Round(tr.vx*dt)), int(math.Round(tr.vy*dt))))
}

// match scores how well plate p continues track tr (0: not at all).
func (t *Tracker) match(tr *track, pred image.Rectangle, p Plate) float64 {
	score := IoU(pred, p.Box)
	if score < t.MinIoU {
		// Fast or jerky motion: accept a near miss of similar size.
		ratio := float64(p.Box.Dx()) / float64(max(1, pred.Dx()))
		d := dist(pred, p.Box)
		if ratio < 0.6 || ratio > 1/0.6 || d > float64(max(pred.Dx(), p.Box.Dx())) {
			return 0
		}
		score = 0.05 * (1 - d/float64(max(pred.Dx(), p.Box.Dx())))
	}
	if n := len(tr.votes); n > 0 && tr.votes[n-1].text == p.Text {
		score += 0.5 // same text: almost surely the same plate
	} else if other(tr, p) {
		return 0
	}
	return score
}

// A confident reading this many edits from a track's last confident one is
// another plate, wherever its box: a vehicle pulling in where another was
// (or, on recorded video, a cut between scenes) must not have its read voted
// into the one before. A misread of the same plate costs one or two edits.
const (
	otherPlateEdits = 3
	otherPlateConf  = 0.5
)

// other reports whether p reads, confidently, as another plate than the
// track's latest confident reading.
func other(tr *track, p Plate) bool {
	if p.Confidence < otherPlateConf {
		return false
	}
	for i := len(tr.votes) - 1; i >= 0; i-- {
		if v := tr.votes[i]; v.conf >= otherPlateConf {
			return vrm.EditDistance(v.text, p.Text) >= otherPlateEdits
		}
	}
	return false
}

func centre(r image.Rectangle) (float64, float64) {
	return float64(r.Min.X+r.Max.X) / 2, float64(r.Min.Y+r.Max.Y) / 2
}

func dist(a, b image.Rectangle) float64 {
	ax, ay := centre(a)
	bx, by := centre(b)
	return math.Hypot(ax-bx, ay-by)
}

// observe adds plate p seen in frame f to track tr.
func (t *Tracker) observe(tr *track, f *Frame, p Plate) error {
	if dt := float64(f.Seq - tr.lastSeq); dt > 0 {
		ox, oy := centre(tr.box)
		nx, ny := centre(p.Box)
		vx, vy := (nx-ox)/dt, (ny-oy)/dt
		if len(tr.votes) == 1 {
			tr.vx, tr.vy = vx, vy
		} else {
			tr.vx, tr.vy = 0.5*tr.vx+0.5*vx, 0.5*tr.vy+0.5*vy
		}
	}
	tr.box, tr.lastSeq, tr.lastTime, tr.missed = p.Box, f.Seq, f.Time, 0
	if n := len(tr.votes); n > 0 && tr.votes[n-1].text == p.Text {
		tr.agreeRun++
	} else {
		tr.agreeRun = 1
	}
	if len(tr.votes) == maxVotes { // a vehicle stopped in view for minutes
		tr.votes = append(tr.votes[:0], tr.votes[1:]...)
	}
	cut := p.Box.Min.X <= edgeMargin || p.Box.Max.X >= f.Mat.Cols()-edgeMargin
	tr.votes = append(tr.votes, vote{text: p.Text, raw: p.Raw, conf: p.Confidence, charConf: p.CharConf, candidates: p.Candidates, cut: cut})
	tr.frames++

	sharp, err := Sharpness(f.Mat, p.Box)
	if err != nil {
		return err
	}
	keep := sharp > tr.sharp // the sharpest view (tr.sharp starts below any)
	if tr.sharp >= 0 && cut != tr.patchCut {
		keep = !cut // a whole view of the plate beats a cut one, however sharp
	}
	if !keep {
		return nil
	}
	tr.close()
	tr.sharp, tr.bestTime, tr.bestBox, tr.patchCut = sharp, f.Time, p.Box, cut
	crop := CropBox(p.Box, image.Rect(0, 0, f.Mat.Cols(), f.Mat.Rows()))
	roi := f.Mat.Region(crop)
	tr.patch = roi.Clone()
	roi.Close()
	tr.overview = gocv.NewMat()
	w := min(t.OverviewWidth, f.Mat.Cols())
	h := int(float64(f.Mat.Rows())*float64(w)/float64(f.Mat.Cols()) + 0.5)
	gocv.Resize(f.Mat, &tr.overview, image.Pt(w, h), 0, 0, gocv.InterpolationArea)
	return nil
}

// certain reports whether a pass may be reported before it ends.
func (t *Tracker) certain(tr *track) bool {
	if t.EarlyFrames == 0 || tr.agreeRun < max(t.EarlyFrames, t.MinFrames) {
		return false
	}
	for _, v := range tr.votes[max(0, len(tr.votes)-tr.agreeRun):] {
		if v.conf < t.EarlyConfidence || v.cut {
			return false
		}
	}
	return true
}

// edgeMargin is how near (px) the frame's left or right edge a plate's box
// may come and still be taken as whole. A plate cut by the edge shows only
// some of its characters, and the reader reads what it sees: IF10KAX
// entering at the right edge reads, confidently, as IF10KA.
const edgeMargin = 1

// whole is the track's readings of the plate seen whole, or nil when it
// was only ever seen cut by the frame's edge.
func (tr *track) whole() []vote {
	var out []vote
	for _, v := range tr.votes {
		if !v.cut {
			out = append(out, v)
		}
	}
	return out
}

// finish reports a pass that ended, unless it was reported already or was
// too short.
func (t *Tracker) finish(tr *track) (app.Sighting, bool, error) {
	if tr.emitted || tr.frames < t.MinFrames {
		return app.Sighting{}, false, nil
	}
	return t.sighting(tr)
}

// DefaultMinConfidence is Tracker.MinConfidence's default, and the floor
// the still-image commands give Reader.MinConfidence. On the demo drive's
// passes, reads voted below it were 44 of the 54 that matched no plate in
// view and none of the 47 exact ones (the lowest exact: 0.10).
const DefaultMinConfidence = 0.1

// defaultForeignConfidence is Tracker.ForeignConfidence's default: the
// confidence a read that breaks the UK layouts needs, as a foreign mark.
const defaultForeignConfidence = 0.5

// shortChars and defaultShortConfidence are Tracker.ShortConfidence's
// length and default: a read that short needs to be this sure.
const (
	shortChars             = 3
	defaultShortConfidence = 0.8
)

// lettersAndDigits reports whether text has at least one letter and one
// digit.
func lettersAndDigits(text string) bool {
	return strings.ContainsAny(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") && strings.ContainsAny(text, "0123456789")
}

// Unsure reports how many ended passes were not reported because their
// voted confidence was below MinConfidence (below ForeignConfidence for a
// text that is no UK mark in RegionGB, below ShortConfidence for a text of
// three characters or fewer), their text was no UK mark and lacked a letter
// or a digit (RegionGB) or their plate was only ever seen cut by the
// frame's edge. Safe to call from any goroutine.
func (t *Tracker) Unsure() int64 { return t.unsure.Load() }

// sighting votes the track's readings of the whole plate into one
// sighting; not ok (and counted as unsure, its images never encoded) when
// the plate was only ever seen cut by the frame's edge or the vote's
// confidence is below MinConfidence, below ForeignConfidence for a text
// that is no UK mark in RegionGB (or that text lacks a letter or a digit),
// or below ShortConfidence for a short one.
func (t *Tracker) sighting(tr *track) (app.Sighting, bool, error) {
	whole := tr.whole()
	if len(whole) == 0 {
		t.unsure.Add(1)
		return app.Sighting{}, false, nil
	}
	v := voteText(whole, t.TopN)
	if v.conf < t.MinConfidence {
		t.unsure.Add(1)
		return app.Sighting{}, false, nil
	}
	now := t.Now()
	text := v.text
	if t.Region == RegionGB {
		if fixed, _ := vrm.Repair(text, now); vrm.Classify(fixed, now) != app.FormatUnknown {
			text = fixed
		}
	}
	format := vrm.Classify(text, now)
	if t.Region == RegionGB && format == app.FormatUnknown && (v.conf < t.ForeignConfidence || !lettersAndDigits(text)) ||
		len(text) <= shortChars && v.conf < t.ShortConfidence {
		t.unsure.Add(1)
		return app.Sighting{}, false, nil
	}
	if text != v.text {
		v.charConf = alignConf(v.text, v.charConf, text, v.conf)
		v.candidates = dedupe(append([]app.Candidate{{Text: text, Confidence: v.conf}}, v.candidates...), t.TopN)
	}
	s := app.Sighting{
		Camera:          t.Camera,
		Time:            tr.bestTime.UTC().Truncate(time.Millisecond),
		Raw:             v.raw,
		Text:            text,
		Confidence:      v.conf,
		Candidates:      v.candidates,
		CharConfidences: v.charConf,
		Format:          format,
		Box:             tr.bestBox,
		PassID:          tr.passID,
		Frames:          tr.frames,
	}
	var err error
	if s.Patch, err = encodeJPEG(tr.patch, t.JPEGQuality); err != nil {
		return app.Sighting{}, false, fmt.Errorf("pass %s patch: %w", tr.passID, err)
	}
	if s.Overview, err = encodeJPEG(tr.overview, t.JPEGQuality); err != nil {
		return app.Sighting{}, false, fmt.Errorf("pass %s overview: %w", tr.passID, err)
	}
	return s, true, nil
}

// maxCandidateEdits is how far (Levenshtein) a pass's other readings may be
// from the voted text and still be offered as candidates: OCR alternatives
// of one plate differ in a character or two, a look-alike hot-list match in
// up to two more.
const maxCandidateEdits = 3

type voted struct {
	text, raw  string
	conf       float64
	charConf   []float64
	candidates []app.Candidate
}

// voteText merges a pass's readings: the length most confidently read wins,
// then each position goes to the character with the most confidence behind
// it among the readings of that length. A character's confidence is the
// share of those readings' confidence that backs it. The text's confidence is
// the mean over all frames of the probability each gave it, or the product
// of its character confidences when that is higher (a text assembled from
// frames that each misread a different character).
func voteText(votes []vote, topN int) voted {
	byLen := map[int]float64{}
	rawCount := map[string]int{}
	for _, v := range votes {
		byLen[len(v.text)] += v.conf
		rawCount[v.raw]++
	}
	L, best := 0, -1.0
	for l, w := range byLen {
		if w > best || (w == best && l > L) {
			L, best = l, w
		}
	}
	var same []vote
	for _, v := range votes {
		if len(v.text) == L {
			same = append(same, v)
		}
	}
	text := make([]byte, L)
	charConf := make([]float64, L)
	for i := 0; i < L; i++ {
		w := map[byte]float64{}
		for _, v := range same {
			c := v.conf
			if i < len(v.charConf) {
				c = v.charConf[i]
			}
			w[v.text[i]] += c
		}
		var bc byte
		bw := -1.0
		for c, x := range w {
			if x > bw || (x == bw && c < bc) {
				bc, bw = c, x
			}
		}
		text[i] = bc
		charConf[i] = bw / float64(len(same))
	}
	out := voted{text: string(text), charConf: charConf}

	// Candidates: the mean probability over frames of every text read.
	sum := map[string]float64{}
	for _, v := range votes {
		for _, c := range v.candidates {
			sum[c.Text] += c.Confidence
		}
	}
	n := float64(len(votes))
	prod := 1.0
	for _, c := range charConf {
		prod *= c
	}
	out.conf = max(sum[out.text]/n, prod)
	cands := []app.Candidate{{Text: out.text, Confidence: out.conf}}
	for txt, s := range sum {
		// A reading far from the voted text is not another reading of
		// this plate but a plate of another vehicle that the track
		// picked up: it must not stand as a candidate for this read.
		if txt != out.text && vrm.EditDistance(txt, out.text) <= maxCandidateEdits {
			cands = append(cands, app.Candidate{Text: txt, Confidence: s / n})
		}
	}
	sort.SliceStable(cands[1:], func(i, j int) bool {
		a, b := cands[1+i], cands[1+j]
		if a.Confidence != b.Confidence {
			return a.Confidence > b.Confidence
		}
		return a.Text < b.Text
	})
	if len(cands) > topN {
		cands = cands[:topN]
	}
	out.candidates = cands

	// Raw: the OCR text most frames produced.
	rc := -1
	for r, c := range rawCount {
		if c > rc || (c == rc && strings.Compare(r, out.raw) < 0) {
			out.raw, rc = r, c
		}
	}
	return out
}

// Sharpness is the variance of the Laplacian of the grey plate crop: higher
// is sharper (less motion and focus blur).
func Sharpness(img gocv.Mat, box image.Rectangle) (float64, error) {
	box = box.Intersect(image.Rect(0, 0, img.Cols(), img.Rows()))
	if box.Dx() < 3 || box.Dy() < 3 {
		return 0, nil
	}
	roi := img.Region(box)
	defer roi.Close()
	grey := gocv.NewMat()
	defer grey.Close()
	if roi.Channels() == 1 {
		roi.CopyTo(&grey)
	} else {
		gocv.CvtColor(roi, &grey, gocv.ColorBGRToGray)
	}
	lap := gocv.NewMat()
	defer lap.Close()
	gocv.Laplacian(grey, &lap, gocv.MatTypeCV64F, 3, 1, 0, gocv.BorderDefault)
	mean, std := gocv.NewMat(), gocv.NewMat()
	defer mean.Close()
	defer std.Close()
	gocv.MeanStdDev(lap, &mean, &std)
	sd := std.GetDoubleAt(0, 0)
	return sd * sd, nil
}

func encodeJPEG(m gocv.Mat, quality int) ([]byte, error) {
	if m.Ptr() == nil || m.Empty() {
		return nil, nil
	}
	buf, err := gocv.IMEncodeWithParams(gocv.JPEGFileExt, m, []int{gocv.IMWriteJpegQuality, quality})
	if err != nil {
		return nil, err
	}
	defer buf.Close()
	return append([]byte(nil), buf.GetBytes()...), nil
}
