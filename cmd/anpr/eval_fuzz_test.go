package main

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ukanpr/anpr/cmd/internal/cli"
)

// FuzzReadLabels feeds arbitrary bytes to the labels CSV parser: it must
// return labels or a usage error naming the file, never panic.
func FuzzReadLabels(f *testing.F) {
	f.Add([]byte("file,plate_text,x,y,w,h,readable\nimages/a.jpg,B21GSB,549,486,124,30,1\nimages/a.jpg,,1,2,3,4,0\n"))
	f.Add([]byte("FILE,Plate_Text,X,Y,W,H,Readable,extra\na.jpg,ab12 cde,0,0,10,10,1,x\n"))
	f.Add([]byte("file,plate_text,x,y,w,h,readable\n\"a.jpg,B,1,2,3,4,1\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "labels.csv")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		files, labels, err := readLabels(p)
		if err != nil {
			var ue cli.UsageError
			if !errors.As(err, &ue) {
				t.Fatalf("error %v is not a usage error", err)
			}
			return
		}
		for _, file := range files {
			for _, l := range labels[file] {
				if l.box.Dx() <= 0 || l.box.Dy() <= 0 || (l.readable && l.text == "") {
					t.Fatalf("accepted a bad label %+v", l)
				}
			}
		}
	})
}
