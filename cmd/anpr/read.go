package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"strings"
	"time"

	"github.com/ukanpr/anpr/app"
	"github.com/ukanpr/anpr/vision"
)

func init() {
	register(command{name: "read", summary: "recognise plates in still images", run: runRead})
}

const readUsage = `read [--region gb|any] [--json] [--crop] IMAGE...

Finds and reads the number plates in each image. --region gb (the default)
applies the UK registration rules: look-alike characters are repaired into
valid UK marks and valid marks are preferred; a foreign plate is still read,
with format "unknown". --region any reads any Latin letter/digit plate as
the model reads it.

The detector looks at each image whole, again through a window where a
forward camera sees distant vehicles (--zoom), through the image's four
corners at that window's scale for distant plates elsewhere (--far; off in
the car's video pipeline, whose distant plates lie in the window), and, for
close-ups where a plate fills a large part of the image, at two smaller
scales (--near; likewise off in the car, where a plate is seldom that
close). A plate whose box is too tall for a level one-line plate is also
read turned level both ways, the surest reading kept (--deskew; likewise
off in the car). Each plate is also read from three crops slightly off the
detector's box, and the text the four readings agree on most is kept
(--jitter; off in the car, whose tracker votes over the frames of a pass
instead).

A reading less sure than --min-confidence (default 0.1, the floor a pass
must reach in the car) is not reported as a plate; 0 reports every box
read as two characters or more.

--crop takes each image to be one plate already cut out (a sighting's
patch, a crop from another system): the detector is skipped and the whole
image is read as the plate, reported at box 0,0 and the image's size.

With --json, one object per image:
  {"file":…, "ms":…, "plates":[{"text":…, "confidence":…, "box":[x,y,w,h],
   "format":…, "candidates":[{"text":…, "confidence":…}]}]}
An unreadable image is reported on stderr and the others are still read;
the exit status is then 2.`

// visionFlags are the options read, eval and bench share.
type visionFlags struct {
	region    string
	models    string
	threads   int
	threshold float64
	zoom      string
	near      string // "" where the command has no --near (bench: a video pipeline)
	deskew    string // likewise --deskew
	jitter    string // likewise --jitter
	far       string // likewise --far
	minConf   float64
}

func (v *visionFlags) add(fs interface {
	StringVar(*string, string, string, string)
	IntVar(*int, string, int, string)
	Float64Var(*float64, string, float64, string)
}, withRegion bool) {
	if withRegion {
		fs.StringVar(&v.region, "region", "gb", "registration rules: gb (UK) or any")
	}
	fs.StringVar(&v.models, "models", "", "load the ONNX models, and the detector's card with its threshold, from this `DIR` instead of the ones built in")
	fs.IntVar(&v.threads, "threads", 0, "OpenCV worker threads (0: one per CPU)")
	fs.Float64Var(&v.threshold, "threshold", 0, "detector heat-map threshold, 0..1 (0: the model card's)")
	fs.StringVar(&v.zoom, "zoom", "on", "second detector pass for distant plates: on, off, or the window `X0,Y0,X1,Y1` in fractions of the frame")
}

// addStills adds the still-image commands' extra looks: --near and --far
// (detector passes for big plates, and for small ones anywhere), --deskew
// (turned readings of tilted plates) and --jitter (readings of each plate
// from nearby crops, voted), and their floor: --min-confidence.
func (v *visionFlags) addStills(fs interface {
	StringVar(*string, string, string, string)
	Float64Var(*float64, string, float64, string)
}) {
	fs.StringVar(&v.far, "far", "on", "also look for distant plates all over the image, through its four corners at the zoom's scale: on or off")
	fs.StringVar(&v.near, "near", "on", "also look for plates too big for the whole image's scale (close-ups): on or off")
	fs.StringVar(&v.deskew, "deskew", "on", "also read a plate whose box looks tilted turned level: on or off")
	fs.StringVar(&v.jitter, "jitter", "on", "also read each plate from three slightly different crops and keep the text they agree on: on or off")
	fs.Float64Var(&v.minConf, "min-confidence", vision.DefaultMinConfidence,
		"report no plate read less surely than this, 0..1 (the car's floor for a pass; 0: every reading)")
}

// reader returns a still-image reader of the models with the flags' floor.
func (v *visionFlags) reader(m *vision.Models, region vision.Region) *vision.Reader {
	r := vision.NewReader(m, region)
	r.MinConfidence = v.minConf
	return r
}

// open checks the flags and loads the models.
func (v *visionFlags) open() (*vision.Models, vision.Region, error) {
	var region vision.Region
	if v.region != "" {
		r, err := vision.ParseRegion(v.region)
		if err != nil {
			return nil, "", badUsage("--region: %v", err)
		}
		region = r
	}
	if v.threads < 0 {
		return nil, "", badUsage("--threads %d: want 0 or more", v.threads)
	}
	if v.threshold < 0 || v.threshold >= 1 {
		return nil, "", badUsage("--threshold %g: want a value from 0 to 1", v.threshold)
	}
	if v.minConf < 0 || v.minConf > 1 || math.IsNaN(v.minConf) {
		return nil, "", badUsage("--min-confidence %g: want a value from 0 to 1", v.minConf)
	}
	zoom, err := vision.ParseZoom(v.zoom)
	if err != nil {
		return nil, "", badUsage("--zoom: %v", err)
	}
	for _, f := range []struct{ name, v string }{{"near", v.near}, {"far", v.far}, {"deskew", v.deskew}, {"jitter", v.jitter}} {
		if f.v != "" && f.v != "on" && f.v != "off" {
			return nil, "", badUsage("--%s %q: want on or off", f.name, f.v)
		}
	}
	vision.SetThreads(v.threads)
	m, err := vision.LoadModels(v.models)
	if err != nil {
		return nil, "", fmt.Errorf("load models: %w", err)
	}
	if v.threshold > 0 {
		m.Detector.Threshold = float32(v.threshold)
	}
	m.Detector.Zoom = zoom
	m.Detector.Near = v.near == "on"
	m.Detector.Far = v.far == "on"
	m.Recogniser.Deskew = v.deskew == "on"
	m.Recogniser.Jitter = v.jitter == "on"
	return m, region, nil
}

// plateJSON is one plate of `anpr read --json`, as DESIGN.md gives it.
type plateJSON struct {
	Text       string          `json:"text"`
	Confidence float64         `json:"confidence"`
	Box        [4]int          `json:"box"`
	Format     app.Format      `json:"format"`
	Candidates []app.Candidate `json:"candidates"`
}

// imageJSON is one line of `anpr read --json`.
type imageJSON struct {
	File   string      `json:"file"`
	MS     float64     `json:"ms"`
	Plates []plateJSON `json:"plates"`
}

func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}

func toPlateJSON(p vision.Plate) plateJSON {
	cands := make([]app.Candidate, len(p.Candidates))
	for i, c := range p.Candidates {
		cands[i] = app.Candidate{Text: c.Text, Confidence: round(c.Confidence, 4)}
	}
	return plateJSON{
		Text: p.Text, Confidence: round(p.Confidence, 4), Format: p.Format, Candidates: cands,
		Box: [4]int{p.Box.Min.X, p.Box.Min.Y, p.Box.Dx(), p.Box.Dy()},
	}
}

func runRead(ctx context.Context, m *Main, args []string) error {
	fs := newFlags("read", readUsage, m.Stdout)
	var vf visionFlags
	vf.add(fs, true)
	vf.addStills(fs)
	asJSON := fs.Bool("json", false, "one JSON object per image")
	crop := fs.Bool("crop", false, "each image is one plate already cut out: read it whole, no detector")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return badUsage("want at least one IMAGE")
	}
	models, region, err := vf.open()
	if err != nil {
		return err
	}
	defer models.Close()
	reader := vf.reader(models, region)

	var bad []string
	for _, path := range fs.Args() {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		res, err := readImage(reader, path, *crop)
		if err != nil {
			if !errors.Is(err, vision.ErrUnreadableImage) {
				return err
			}
			fmt.Fprintf(m.Stderr, "anpr read: %s.\n", err)
			bad = append(bad, path)
			continue
		}
		if *asJSON {
			if err := json.NewEncoder(m.Stdout).Encode(res); err != nil {
				return err
			}
			continue
		}
		writeReadText(m.Stdout, res)
	}
	if len(bad) > 0 {
		return badUsage("%d of %d images could not be read: %s", len(bad), fs.NArg(), strings.Join(bad, ", "))
	}
	return nil
}

// readImage reads the plates in the image at path; crop: the image is one
// plate, read whole.
func readImage(reader *vision.Reader, path string, crop bool) (imageJSON, error) {
	img, err := vision.LoadImage(path)
	if err != nil {
		return imageJSON{}, err
	}
	defer img.Close()
	start := time.Now()
	var plates []vision.Plate
	if crop {
		whole := vision.Detection{Box: image.Rect(0, 0, img.Cols(), img.Rows()), Score: 1}
		plates, err = reader.ReadBoxes(img, []vision.Detection{whole})
	} else {
		plates, err = reader.Read(img)
	}
	ms := float64(time.Since(start).Microseconds()) / 1000
	if err != nil {
		return imageJSON{}, fmt.Errorf("image %s: %w", path, err)
	}
	res := imageJSON{File: path, MS: round(ms, 1), Plates: make([]plateJSON, 0, len(plates))}
	for _, p := range plates {
		res.Plates = append(res.Plates, toPlateJSON(p))
	}
	return res, nil
}

func writeReadText(w io.Writer, res imageJSON) {
	if len(res.Plates) == 0 {
		fmt.Fprintf(w, "%s: no plate found (%.0f ms)\n", res.File, res.MS)
		return
	}
	for _, p := range res.Plates {
		fmt.Fprintf(w, "%s: %-8s %.2f  %-11s at %d,%d %dx%d", res.File, p.Text, p.Confidence, p.Format,
			p.Box[0], p.Box[1], p.Box[2], p.Box[3])
		if len(p.Candidates) > 1 {
			alts := make([]string, 0, len(p.Candidates)-1)
			for _, c := range p.Candidates[1:] {
				alts = append(alts, fmt.Sprintf("%s %.2f", c.Text, c.Confidence))
			}
			fmt.Fprintf(w, "  (or %s)", strings.Join(alts, ", "))
		}
		fmt.Fprintln(w)
	}
}
