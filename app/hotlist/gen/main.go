// Command gen writes a realistic generated hot list as CSV, for import
// benchmarks and demos:
//
//	go run ./app/hotlist/gen -n 1000000 -patterns 100 -seed 1 > list.csv
//
// The same seed and date always give the same file.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/ukanpr/anpr/app/hotlist"
)

func main() {
	n := flag.Int("n", 1000, "number of marks")
	patterns := flag.Int("patterns", 0, "number of wildcard patterns")
	seed := flag.Uint64("seed", 1, "random seed")
	date := flag.String("now", "2026-01-01", "the date the list is generated at (age identifiers, expiries)")
	flag.Parse()
	now, err := time.Parse(time.DateOnly, *date)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen: -now:", err)
		os.Exit(2)
	}
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	if err := hotlist.NewGenerator(*seed, now).WriteCSV(w, *n, *patterns); err == nil {
		err = w.Flush()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
