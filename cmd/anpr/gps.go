package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"text/tabwriter"
	"time"

	"github.com/ukanpr/anpr/app"
	"github.com/ukanpr/anpr/gps"
)

func init() {
	register(command{name: "gps", summary: "replay an NMEA log: the fixes the app would use", run: runGPS})
}

const gpsUsage = `gps replay [--json] NMEA_FILE

Replays a receiver's NMEA log and prints the position the app would use for
each epoch (one per distinct receiver time), then a summary of what was
dropped on stderr.`

func runGPS(ctx context.Context, m *Main, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintf(m.Stdout, "Usage: anpr %s\n", gpsUsage)
		if len(args) == 0 {
			return badUsage("missing subcommand: want 'replay'")
		}
		return errHelp
	}
	if args[0] != "replay" {
		return badUsage("unknown gps subcommand %q: want 'replay'", args[0])
	}
	fs := newFlags("gps replay", gpsUsage, m.Stdout)
	asJSON := fs.Bool("json", false, "one JSON object per epoch")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return badUsage("want exactly one NMEA_FILE, got %d", fs.NArg())
	}
	return gpsReplay(ctx, m, fs.Arg(0), *asJSON)
}

// epochJSON is one line of `anpr gps replay --json`, as DESIGN.md gives it.
// Fields the receiver did not report are left out, as are lat/lon without
// a fix.
type epochJSON struct {
	Time      string   `json:"time"`
	Fix       string   `json:"fix"`
	Lat       *float64 `json:"lat,omitempty"`
	Lon       *float64 `json:"lon,omitempty"`
	SpeedMPS  *float64 `json:"speed_mps,omitempty"`
	CourseDeg *float64 `json:"course_deg,omitempty"`
	HDOP      *float64 `json:"hdop,omitempty"`
	Sats      *int     `json:"sats,omitempty"`
	AltM      *float64 `json:"alt_m,omitempty"`
}

func num(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

func gpsReplay(ctx context.Context, m *Main, path string, asJSON bool) error {
	f, err := os.Open(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return asUsage(fmt.Errorf("NMEA file %s: %w", path, err))
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return badUsage("NMEA file %s is a directory", path)
	}
	var (
		enc     = json.NewEncoder(m.Stdout)
		tw      = tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
		epochs  int
		fixes   int
		undated int
		werr    error
	)
	tr := &gps.Tracker{MinDate: gps.GPSEpoch, OnEpoch: func(fx gps.Fix) {
		if werr != nil || ctx.Err() != nil {
			return
		}
		if fx.Time.IsZero() {
			undated++
			return
		}
		epochs++
		if fx.Kind.Usable() {
			fixes++
		}
		if asJSON {
			werr = enc.Encode(toJSON(fx))
			return
		}
		if epochs == 1 {
			fmt.Fprintln(tw, "time\tfix\tlat\tlon\tspeed m/s\tcourse°\thdop\tsats\talt m\t")
		}
		_, werr = fmt.Fprintln(tw, row(fx))
	}}
	stats, err := gps.Replay(ctxReader{ctx, f}, tr)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		return asUsage(fmt.Errorf("NMEA file %s: %w", path, err))
	}
	if werr != nil {
		return fmt.Errorf("write output: %w", werr)
	}
	if !asJSON {
		if err := tw.Flush(); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if stats.Sentences == 0 {
		return badUsage("NMEA file %s holds no NMEA sentences", path)
	}
	fmt.Fprintf(m.Stderr, "%s: %d epochs, %d with a usable fix", path, epochs, fixes)
	if undated > 0 {
		fmt.Fprintf(m.Stderr, ", %d more without any date (not printed)", undated)
	}
	fmt.Fprintf(m.Stderr, "; %s\n", stats)
	return nil
}

// ctxReader stops a replay when ctx is done (Ctrl-C on a long log).
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func toJSON(fx gps.Fix) epochJSON {
	j := epochJSON{Time: fx.Time.UTC().Format(time.RFC3339Nano), Fix: string(fx.Kind),
		SpeedMPS: num(fx.SpeedMPS), CourseDeg: num(fx.CourseDeg), HDOP: num(fx.HDOP), AltM: num(fx.AltM)}
	if fx.Kind != app.FixNone {
		j.Lat, j.Lon = num(fx.Lat), num(fx.Lon)
	}
	if fx.Sats >= 0 {
		s := fx.Sats
		j.Sats = &s
	}
	return j
}

func row(fx gps.Fix) string {
	cell := func(v float64, prec int) string {
		if math.IsNaN(v) {
			return "-"
		}
		return fmt.Sprintf("%.*f", prec, v)
	}
	lat, lon := "-", "-"
	if fx.Kind != app.FixNone {
		lat, lon = cell(fx.Lat, 7), cell(fx.Lon, 7)
	}
	sats := "-"
	if fx.Sats >= 0 {
		sats = fmt.Sprint(fx.Sats)
	}
	return fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t", fx.Time.UTC().Format("2006-01-02 15:04:05.000"), fx.Kind,
		lat, lon, cell(fx.SpeedMPS, 2), cell(fx.CourseDeg, 1), cell(fx.HDOP, 1), sats, cell(fx.AltM, 1))
}
