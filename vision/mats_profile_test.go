//go:build matprofile

package vision

import (
	"bytes"
	"testing"

	"gocv.io/x/gocv"
)

// checkMats fails t if any gocv.Mat is still open when t ends (after its own
// cleanups and defers). Needs -tags matprofile.
func checkMats(t testing.TB) {
	t.Helper()
	t.Cleanup(func() {
		if n := gocv.MatProfile.Count(); n != 0 {
			var b bytes.Buffer
			gocv.MatProfile.WriteTo(&b, 1)
			t.Errorf("%d gocv.Mat(s) not closed:\n%s", n, b.String())
		}
	})
}
