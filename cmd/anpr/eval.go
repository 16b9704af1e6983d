package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ukanpr/anpr/app/vrm"
	"github.com/ukanpr/anpr/vision"
)

func init() {
	register(command{name: "eval", summary: "accuracy on a labelled image set", run: runEval})
}

const evalUsage = `eval --labels CSV [--region gb|any] [--json] [--split LIST] [--errors]

Reads every image named in a labels CSV (columns file,plate_text,x,y,w,h,
readable; file paths relative to the CSV's folder; several rows per image,
one per plate box; readable 0 marks a plate too blurred or small to read)
and reports, for all plates and by plate width band (< 80, 80–160, ≥ 160
px; ≥ 80 combined):

  recall      labelled boxes detected at IoU ≥ 0.5 (all boxes; readable ones);
              detection figures count every box the detector gives
  precision   detections that match a labelled box
  false/frame detections matching no box, per image (a visible plate
              with no box also counts here: labels may miss plates)
  false reads/frame
              those of them that anpr read would report as a plate: read
              as at least two characters at --min-confidence or surer
  exact       readable boxes whose plate was detected and read exactly
  char acc    mean of 1 − edit distance / length over readable boxes
              (an undetected plate scores 0)
  ms/image    reader time per image (detect + recognise)

--split LIST evaluates only the images named in LIST (one path per line,
relative to the CSV's folder; # comments): the dash-cam frames the models
never trained on are in vision/train/heldout.txt.
--json prints one object per band.`

// evalLabel is one labelled plate box.
type evalLabel struct {
	text     string
	box      image.Rectangle
	readable bool
}

// readLabels parses a labels CSV into boxes per image, in file order.
func readLabels(path string) (files []string, labels map[string][]evalLabel, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, asUsage(fmt.Errorf("labels %s: %w", path, errors.Unwrap(err)))
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReader(f))
	r.FieldsPerRecord = -1
	head, err := r.Read()
	if err != nil {
		return nil, nil, asUsage(fmt.Errorf("labels %s: header: %w", path, err))
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	for _, want := range []string{"file", "plate_text", "x", "y", "w", "h", "readable"} {
		if _, ok := col[want]; !ok {
			return nil, nil, asUsage(fmt.Errorf("labels %s: header has no %q column (want file,plate_text,x,y,w,h,readable)", path, want))
		}
	}
	labels = map[string][]evalLabel{}
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, asUsage(fmt.Errorf("labels %s: %w", path, err))
		}
		if len(rec) < len(head) {
			return nil, nil, asUsage(fmt.Errorf("labels %s line %d: %d fields, want %d", path, line, len(rec), len(head)))
		}
		var n [4]int
		for i, k := range []string{"x", "y", "w", "h"} {
			v, err := strconv.Atoi(strings.TrimSpace(rec[col[k]]))
			if err != nil || (i >= 2 && v <= 0) {
				return nil, nil, asUsage(fmt.Errorf("labels %s line %d: %s %q is not a positive whole number of pixels", path, line, k, rec[col[k]]))
			}
			n[i] = v
		}
		rd := strings.TrimSpace(rec[col["readable"]])
		if rd != "0" && rd != "1" {
			return nil, nil, asUsage(fmt.Errorf("labels %s line %d: readable %q is not 0 or 1", path, line, rd))
		}
		file := strings.TrimSpace(rec[col["file"]])
		if file == "" {
			return nil, nil, asUsage(fmt.Errorf("labels %s line %d: empty file", path, line))
		}
		text := vrm.Normalize(rec[col["plate_text"]])
		if rd == "1" && text == "" {
			return nil, nil, asUsage(fmt.Errorf("labels %s line %d: readable plate with no text", path, line))
		}
		if _, ok := labels[file]; !ok {
			files = append(files, file)
		}
		labels[file] = append(labels[file], evalLabel{text: text, readable: rd == "1",
			box: image.Rect(n[0], n[1], n[0]+n[2], n[1]+n[3])})
	}
	return files, labels, nil
}

// readSplit reads a list of image paths.
func readSplit(path string) (map[string]bool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, asUsage(fmt.Errorf("split %s: %w", path, errors.Unwrap(err)))
	}
	keep := map[string]bool{}
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			keep[filepath.ToSlash(l)] = true
		}
	}
	return keep, nil
}

// band is a plate width class.
type band struct {
	name   string
	lo, hi int // [lo, hi) px
}

var bands = []band{
	{"all", 0, 1 << 30},
	{"<80", 0, 80},
	{"80-160", 80, 160},
	{">=160", 160, 1 << 30},
	{">=80", 80, 1 << 30},
}

func (b band) has(w int) bool { return w >= b.lo && w < b.hi }

// tally is the counts behind one band's figures.
type tally struct {
	boxes, found        int
	readable, foundRead int
	dets, matchedDets   int
	falseDets           int
	falseReads          int // false detections the reader reported as a plate
	exact               int
	charAcc             float64
}

// bandJSON is one line of `anpr eval --json`.
type bandJSON struct {
	Band           string  `json:"band"`
	Frames         int     `json:"frames"`
	Boxes          int     `json:"boxes"`
	Readable       int     `json:"readable"`
	Detections     int     `json:"detections"`
	Recall         float64 `json:"recall"`
	RecallReadable float64 `json:"recall_readable"`
	Precision      float64 `json:"precision"`
	FalsePerFrame  float64 `json:"false_per_frame"`
	FalseReads     float64 `json:"false_reads_per_frame"`
	Exact          float64 `json:"exact"`
	CharAccuracy   float64 `json:"char_accuracy"`
	MSPerImage     float64 `json:"ms_per_image"`
}

func runEval(ctx context.Context, m *Main, args []string) error {
	fs := newFlags("eval", evalUsage, m.Stdout)
	var vf visionFlags
	vf.add(fs, true)
	vf.addStills(fs)
	labelsPath := fs.String("labels", "", "labels `CSV` (file,plate_text,x,y,w,h,readable)")
	split := fs.String("split", "", "evaluate only the images listed in this `FILE`")
	asJSON := fs.Bool("json", false, "one JSON object per width band")
	showErrors := fs.Bool("errors", false, "list every miss, misread and false plate on stderr")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *labelsPath == "" {
		return badUsage("--labels CSV is required")
	}
	if fs.NArg() > 0 {
		return badUsage("unexpected arguments %v", fs.Args())
	}
	files, labels, err := readLabels(*labelsPath)
	if err != nil {
		return err
	}
	if *split != "" {
		keep, err := readSplit(*split)
		if err != nil {
			return err
		}
		kept := files[:0]
		for _, f := range files {
			if keep[filepath.ToSlash(f)] {
				kept = append(kept, f)
			}
		}
		files = kept
		if len(files) == 0 {
			return badUsage("split %s names none of the images in %s", *split, *labelsPath)
		}
	}
	models, region, err := vf.open()
	if err != nil {
		return err
	}
	defer models.Close()
	reader := vf.reader(models, region)
	dir := filepath.Dir(*labelsPath)

	tallies := make([]tally, len(bands))
	var busy time.Duration
	for _, file := range files {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		path := filepath.Join(dir, file)
		img, err := vision.LoadImage(path)
		if err != nil {
			return asUsage(fmt.Errorf("labels %s: %w", *labelsPath, err))
		}
		start := time.Now()
		dets, err := models.Detector.Detect(img)
		var plates []vision.Plate
		if err == nil {
			plates, err = reader.ReadBoxes(img, dets)
		}
		busy += time.Since(start)
		img.Close()
		if err != nil {
			return fmt.Errorf("image %s: %w", path, err)
		}
		scoreImage(tallies, file, labels[file], dets, plates, *showErrors, m.Stderr)
	}

	msPer := float64(busy.Microseconds()) / 1000 / float64(len(files))
	rows := make([]bandJSON, len(bands))
	for i, b := range bands {
		t := tallies[i]
		rows[i] = bandJSON{
			Band: b.name, Frames: len(files), Boxes: t.boxes, Readable: t.readable, Detections: t.dets,
			Recall: ratio(t.found, t.boxes), RecallReadable: ratio(t.foundRead, t.readable),
			Precision: ratio(t.matchedDets, t.dets), FalsePerFrame: round(float64(t.falseDets)/float64(len(files)), 4),
			FalseReads: round(float64(t.falseReads)/float64(len(files)), 4),
			Exact:      ratio(t.exact, t.readable), MSPerImage: round(msPer, 1),
		}
		if t.readable > 0 {
			rows[i].CharAccuracy = round(t.charAcc/float64(t.readable), 4)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(m.Stdout)
		enc.SetEscapeHTML(false) // "<80", not "\u003c80"
		for _, r := range rows {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "width px\tboxes\treadable\tdetections\trecall\trecall (readable)\tprecision\tfalse/frame\tfalse reads/frame\texact\tchar acc\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%s\t%s\t%.3f\t%.3f\t%s\t%s\t\n", r.Band, r.Boxes, r.Readable, r.Detections,
			pct(r.Recall, r.Boxes), pct(r.RecallReadable, r.Readable), pct(r.Precision, r.Detections),
			r.FalsePerFrame, r.FalseReads, pct(r.Exact, r.Readable), pct(r.CharAccuracy, r.Readable))
	}
	tw.Flush()
	fmt.Fprintf(m.Stdout, "%d images, %.1f ms per image, region %s. Detections matching no box count as false, but some visible plates have no box.\n",
		len(files), msPer, region)
	return nil
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return round(float64(a)/float64(b), 4)
}

func pct(x float64, n int) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*x)
}

// scoreImage matches one image's detections to its labels (greedy by IoU,
// each at most once, IoU ≥ 0.5) and adds to each band's tally: a label by
// its labelled width, an unmatched detection by its own width. Detection
// figures count every box the detector gave; a matched box's text is the
// plate read there (none when the reader found no text: a miss for the
// exact and character figures).
func scoreImage(tallies []tally, file string, labels []evalLabel, dets []vision.Detection, read []vision.Plate, show bool, w io.Writer) {
	text := map[image.Rectangle]string{}
	conf := map[image.Rectangle]float64{}
	for _, p := range read {
		text[p.Box], conf[p.Box] = p.Text, p.Confidence
	}
	type det struct {
		Box        image.Rectangle
		Text       string
		Confidence float64
	}
	plates := make([]det, len(dets))
	for i, d := range dets {
		plates[i] = det{d.Box, text[d.Box], conf[d.Box]}
	}
	type pair struct {
		li, pi int
		iou    float64
	}
	var pairs []pair
	for li, l := range labels {
		for pi, p := range plates {
			if v := vision.IoU(l.box, p.Box); v >= 0.5 {
				pairs = append(pairs, pair{li, pi, v})
			}
		}
	}
	sort.Slice(pairs, func(i, j int) bool { return pairs[i].iou > pairs[j].iou })
	match := make([]int, len(labels))
	for i := range match {
		match[i] = -1
	}
	used := make([]bool, len(plates))
	for _, p := range pairs {
		if match[p.li] < 0 && !used[p.pi] {
			match[p.li], used[p.pi] = p.pi, true
		}
	}
	for bi, b := range bands {
		t := &tallies[bi]
		for li, l := range labels {
			if !b.has(l.box.Dx()) {
				continue
			}
			t.boxes++
			if match[li] >= 0 {
				t.found++
				t.dets++
				t.matchedDets++
			}
			if !l.readable {
				continue
			}
			t.readable++
			got := ""
			if match[li] >= 0 {
				t.foundRead++
				got = plates[match[li]].Text
			}
			if got == l.text {
				t.exact++
			}
			t.charAcc += charAccuracy(got, l.text)
			if show && bi == 0 && got != l.text {
				if match[li] < 0 {
					fmt.Fprintf(w, "miss    %s %s %dpx at %v\n", file, l.text, l.box.Dx(), l.box.Min)
				} else {
					fmt.Fprintf(w, "misread %s %s read as %s %dpx\n", file, l.text, got, l.box.Dx())
				}
			}
		}
		for pi, p := range plates {
			if used[pi] || !b.has(p.Box.Dx()) {
				continue
			}
			t.dets++
			t.falseDets++
			if p.Text != "" {
				t.falseReads++
			}
			if show && bi == 0 {
				fmt.Fprintf(w, "false   %s %s %.2f %dpx at %v\n", file, p.Text, p.Confidence, p.Box.Dx(), p.Box.Min)
			}
		}
	}
}

// charAccuracy is 1 − edit distance / len(want), at least 0.
func charAccuracy(got, want string) float64 {
	if want == "" {
		return 0
	}
	return max(0, 1-float64(vrm.EditDistance(got, want))/float64(len(want)))
}
