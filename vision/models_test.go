package vision

import "testing"

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
