package main

import (
	"encoding/json"
	"errors"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ukanpr/anpr/assets"
	"github.com/ukanpr/anpr/vision"
	"gocv.io/x/gocv"
)

// modelArgs returns the --models flag for $ANPR_MODELS, and skips the test
// while the models have not been trained and committed.
func modelArgs(t *testing.T) []string {
	t.Helper()
	dir := os.Getenv("ANPR_MODELS")
	m, err := vision.LoadModels(dir)
	if errors.Is(err, assets.ErrNoModel) {
		t.Skipf("model not committed yet: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	if dir == "" {
		return nil
	}
	return []string{"--models", dir}
}

var dashcamDir = filepath.Join("..", "..", "testdata", "dashcam")

func TestReadUsage(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no images", []string{"read"}, "want at least one IMAGE"},
		{"bad region", []string{"read", "--region", "eu", "x.jpg"}, `region "eu" is not one of gb, any`},
		{"unknown flag", []string{"read", "--colour", "x.jpg"}, "flag provided but not defined"},
		{"bad zoom", []string{"read", "--zoom", "0.8,0.2,0.2,0.9", "x.jpg"}, "--zoom: zoom \"0.8,0.2,0.2,0.9\": want 0 ≤ X0 < X1 ≤ 1"},
		{"zoom word", []string{"read", "--zoom", "centre", "x.jpg"}, "want off, on or X0,Y0,X1,Y1"},
		{"bad near", []string{"read", "--near", "yes", "x.jpg"}, `--near "yes": want on or off`},
		{"bad deskew", []string{"read", "--deskew", "1", "x.jpg"}, `--deskew "1": want on or off`},
		{"bad jitter", []string{"read", "--jitter", "maybe", "x.jpg"}, `--jitter "maybe": want on or off`},
		{"bad far", []string{"read", "--far", "no", "x.jpg"}, `--far "no": want on or off`},
		{"floor above 1", []string{"read", "--min-confidence", "1.5", "x.jpg"}, "--min-confidence 1.5: want a value from 0 to 1"},
		{"negative floor", []string{"read", "--min-confidence", "-0.1", "x.jpg"}, "--min-confidence -0.1: want a value from 0 to 1"},
		{"floor not a number", []string{"read", "--min-confidence", "high", "x.jpg"}, `invalid value "high" for flag -min-confidence`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runMain(t, tc.args...)
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tc.want)
			}
		})
	}
}

func TestReadJSON(t *testing.T) {
	checkMats(t)
	margs := modelArgs(t)
	imgs, _ := filepath.Glob(filepath.Join(dashcamDir, "images", "*.jpg"))
	bad := filepath.Join(t.TempDir(), "corrupt.jpg")
	os.WriteFile(bad, []byte("\xff\xd8 not really a jpeg"), 0o644)
	args := append(append([]string{"read", "--region", "any", "--json"}, margs...), imgs[0], bad, imgs[1])
	stdout, stderr, code := runMain(t, args...)
	if code != 2 || !strings.Contains(stderr, bad) {
		t.Errorf("exit %d, stderr %q: want 2 naming %s", code, stderr, bad)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines for 2 good images:\n%s", len(lines), stdout)
	}
	for i, l := range lines {
		var v map[string]any
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatal(err)
		}
		if v["file"] != []string{imgs[0], imgs[1]}[i] {
			t.Errorf("line %d file %v", i, v["file"])
		}
		if _, ok := v["ms"].(float64); !ok {
			t.Errorf("line %d: no ms", i)
		}
		plates, ok := v["plates"].([]any)
		if !ok {
			t.Fatalf("line %d: plates %v", i, v["plates"])
		}
		for _, p := range plates {
			pm := p.(map[string]any)
			box, _ := pm["box"].([]any)
			cands, _ := pm["candidates"].([]any)
			if _, ok := pm["text"].(string); !ok || len(box) != 4 || len(cands) == 0 || pm["format"] == nil || pm["confidence"] == nil {
				t.Errorf("plate %v lacks a field of DESIGN.md's shape", pm)
			}
			if c0 := cands[0].(map[string]any); c0["text"] != pm["text"] {
				t.Errorf("first candidate %v is not the text %v", c0, pm["text"])
			}
		}
	}
}

func TestReadText(t *testing.T) {
	checkMats(t)
	margs := modelArgs(t)
	img := filepath.Join(dashcamDir, "images", "valid_dayride_type1_001.mp4_t_1198.jpg")
	stdout, stderr, code := runMain(t, append(append([]string{"read"}, margs...), img)...)
	if code != 0 || !strings.HasPrefix(stdout, img+": ") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// TestReadCrop: --crop reads a plate already cut out of a real frame (the
// labelled box with the reader's own margin) as one plate at the whole
// image, and a whole frame given as a crop is one (wrong) plate or none,
// never the several a frame holds.
func TestReadCrop(t *testing.T) {
	checkMats(t)
	margs := modelArgs(t)
	frame, err := vision.LoadImage(filepath.Join(dashcamDir, "images", "valid_dayride_type1_001.mp4_t_1198.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	defer frame.Close()
	// B01XEN, 276×66 at 478,543, grown by 8 % / 15 % a side as the reader crops
	roi := frame.Region(image.Rect(478-22, 543-10, 478+276+22, 543+66+10))
	crop := filepath.Join(t.TempDir(), "patch.png")
	ok := gocv.IMWrite(crop, roi)
	roi.Close()
	if !ok {
		t.Fatal("cannot write the crop")
	}
	several := filepath.Join(dashcamDir, "images", "train_dayride_type1_001.mp4_t_519.jpg") // three plates
	args := append(append([]string{"read", "--crop", "--region", "any", "--json"}, margs...), crop, several)
	stdout, stderr, code := runMain(t, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines for 2 images:\n%s", len(lines), stdout)
	}
	var got [2]imageJSON
	for i, l := range lines {
		if err := json.Unmarshal([]byte(l), &got[i]); err != nil {
			t.Fatal(err)
		}
	}
	if ps := got[0].Plates; len(ps) != 1 || ps[0].Text != "B01XEN" || ps[0].Box != [4]int{0, 0, 320, 86} {
		t.Errorf("the crop read as %+v, want B01XEN at [0 0 320 86]", ps)
	}
	if ps := got[1].Plates; len(ps) > 1 {
		t.Errorf("a whole frame as a crop gave %d plates", len(ps))
	}
}
