package vision

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ukanpr/anpr/assets"
)

func TestCardThreshold(t *testing.T) {
	for _, tc := range []struct {
		card string
		want float32
		ok   bool
	}{
		{"## Use\n\nRecommended threshold: 0.42 (heat-map peak).\n", 0.42, true},
		{"| threshold | .3 |\n", 0.3, true},
		{"Detection threshold 0.35 gives recall 97 % at 80 px.", 0.35, true},
		{"No recommendation here. 0.5", 0, false},
		{"threshold\n0.4", 0, false}, // not on the same line
		{"threshold of 12 px", 0, false},
	} {
		got, ok := cardThreshold([]byte(tc.card))
		if got != tc.want || ok != tc.ok {
			t.Errorf("cardThreshold(%q) = %v, %v; want %v, %v", tc.card, got, ok, tc.want, tc.ok)
		}
	}
}

// TestLoadModelsNeedsTheDetectorCard: a models folder is loaded with the
// detector's threshold from the card beside it; a folder without the card,
// or with a card that recommends no threshold, is refused with the card's
// name, not run at some other threshold.
func TestLoadModelsNeedsTheDetectorCard(t *testing.T) {
	checkMats(t)
	dir := t.TempDir()
	for _, name := range []string{assets.DetectorModel, assets.ReaderModel} {
		b, err := assets.Model(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	card := filepath.Join(dir, detectorCard)
	for _, tc := range []struct {
		name, card string // card "": no card file
		want       float32
		err        string
	}{
		{"no card", "", 0, "plate-detector.md: no such file"},
		{"no threshold", "# plate-detector.onnx\n\nNo recommendation.\n", 0, "plate-detector.md: no recommended threshold"},
		{"card", "# plate-detector.onnx\n\nRecommended threshold: 0.45 (heat-map peak).\n", 0.45, ""},
	} {
		os.Remove(card)
		if tc.card != "" {
			if err := os.WriteFile(card, []byte(tc.card), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		m, err := LoadModels(dir)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: LoadModels error %v, want one containing %q", tc.name, err, tc.err)
			}
			if m != nil {
				m.Close()
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if m.Detector.Threshold != tc.want {
			t.Errorf("%s: threshold %v, want %v", tc.name, m.Detector.Threshold, tc.want)
		}
		m.Close()
	}
}
