package hotlist_test

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ukanpr/anpr/app/hotlist"
)

func ExampleReader() {
	csv := "vrm,category,priority,expires\n" +
		"BD51 SMR,Stolen,2,2026-12-31\n" +
		"AB12#CDE,Stolen,2,\n" +
		"K50 WTB,No insurance,12,\n" +
		"FR12*,Partial plate,3,\n"
	r, err := hotlist.NewReader(strings.NewReader(csv), hotlist.ReaderOptions{List: "pnc"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for {
		e, err := r.Next()
		var bad *hotlist.LineError
		switch {
		case err == io.EOF:
			return
		case errors.As(err, &bad):
			fmt.Println("skipped", bad)
		case err != nil:
			fmt.Println(err)
			return
		default:
			fmt.Println(e.List, e.VRM, e.Category, e.Priority, e.Expires.Format("2006-01-02T15:04Z"))
		}
	}
	// Output:
	// pnc BD51SMR Stolen 2 2027-01-01T00:00Z
	// skipped line 3: vrm: "AB12#CDE": registration mark has a character that is not a letter, digit or separator: '#'
	// skipped line 4: priority: "12" is not a whole number from 1 (highest) to 9
	// pnc FR12* Partial plate 3 0001-01-01T00:00Z
}
